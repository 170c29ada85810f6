package inventory

import (
	"bytes"
	"strconv"
)

// Date layouts of the output (§6.2): creation dates carry milliseconds, the
// inventory date whole seconds.
const (
	creationDateLayout  = "2006-01-02T15:04:05.000Z" // see appendCreationDate
	inventoryDateLayout = "2006-01-02T15:04:05Z"
)

// appendCreationDate appends the creation date of millisecond ms, as
// time.UnixMilli(ms).UTC().AppendFormat(dst, creationDateLayout) would for
// years 1 to 9999, in about a third of the time: the civil date comes from the
// day number by Hinnant's days-to-civil algorithm.
func appendCreationDate(dst []byte, ms int64) []byte {
	const msPerDay = 86_400_000
	days, rem := ms/msPerDay, ms%msPerDay
	if rem < 0 {
		days, rem = days-1, rem+msPerDay
	}
	z := days + 719_468 // days since 0000-03-01
	era := z / 146_097
	if z < 0 && z%146_097 != 0 {
		era--
	}
	doe := z - era*146_097                                   // day of era, [0, 146096]
	yoe := (doe - doe/1460 + doe/36_524 - doe/146_096) / 365 // year of era, [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)                 // day of year from March 1, [0, 365]
	mp := (5*doy + 2) / 153                                  // month from March, [0, 11]
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	if mp >= 10 {
		month = mp - 9
	}
	year := yoe + era*400
	if month <= 2 {
		year++
	}
	dst = append4(dst, year)
	dst = append(dst, '-')
	dst = append2(dst, month)
	dst = append(dst, '-')
	dst = append2(dst, day)
	dst = append(dst, 'T')
	dst = append2(dst, rem/3_600_000)
	dst = append(dst, ':')
	dst = append2(dst, rem/60_000%60)
	dst = append(dst, ':')
	dst = append2(dst, rem/1000%60)
	dst = append(dst, '.')
	ms3 := rem % 1000
	dst = append(dst, byte('0'+ms3/100), byte('0'+ms3/10%10), byte('0'+ms3%10))
	return append(dst, 'Z')
}

// append2 appends v, in [0, 99], as two digits.
func append2(dst []byte, v int64) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

// append4 appends v, in [0, 9999], as four digits.
func append4(dst []byte, v int64) []byte {
	return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// appendJSONItem appends rec as one ArchiveList element (§6.2).
func appendJSONItem(dst []byte, rec *record) []byte {
	dst = append(dst, `{"ArchiveId":`...)
	dst = AppendJSONString(dst, rec.id, false)
	dst = append(dst, `,"ArchiveDescription":`...)
	dst = AppendJSONString(dst, rec.desc, false)
	dst = append(dst, `,"CreationDate":"`...)
	dst = appendCreationDate(dst, rec.ms)
	dst = append(dst, `","Size":`...)
	dst = strconv.AppendInt(dst, rec.size, 10)
	dst = append(dst, `,"SHA256TreeHash":"`...)
	dst = appendHex(dst, rec.hash[:])
	return append(dst, `"}`...)
}

// csvHeader is the first line of CSV output (§6.3).
const csvHeader = "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n"

// appendCSVQuoted appends s in double quotes with each '"' written as \"
// and every other byte, backslashes included, unchanged (§6.3).
func appendCSVQuoted(dst, s []byte) []byte {
	dst = append(dst, '"')
	for {
		i := bytes.IndexByte(s, '"')
		if i < 0 {
			break
		}
		dst = append(dst, s[:i]...)
		dst = append(dst, '\\', '"')
		s = s[i+1:]
	}
	dst = append(dst, s...)
	return append(dst, '"')
}

// csvNeedsQuotes reports whether a field must be quoted: it holds a comma,
// a double quote or a line break. (Four vectorised scans beat one loop
// over the bytes.)
func csvNeedsQuotes(s []byte) bool {
	return bytes.IndexByte(s, ',') >= 0 || bytes.IndexByte(s, '"') >= 0 ||
		bytes.IndexByte(s, '\n') >= 0 || bytes.IndexByte(s, '\r') >= 0
}

// appendCSVItem appends rec as one CSV line (§6.3): the description always
// quoted, the archive id only when it must be, the rest never.
func appendCSVItem(dst []byte, rec *record) []byte {
	if csvNeedsQuotes(rec.id) {
		dst = appendCSVQuoted(dst, rec.id)
	} else {
		dst = append(dst, rec.id...)
	}
	dst = append(dst, ',')
	dst = appendCSVQuoted(dst, rec.desc)
	dst = append(dst, ',')
	dst = appendCreationDate(dst, rec.ms)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, rec.size, 10)
	dst = append(dst, ',')
	dst = appendHex(dst, rec.hash[:])
	return append(dst, '\n')
}
