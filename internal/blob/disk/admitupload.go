package disk

// AdmitUpload reports whether an upload may start: nil, unless the disk
// is full (the reserve is released and there is not yet room for three
// reserves; reserve.go), in which case it is the error a Put gives then.
// The service asks it before an upload it keeps in the metadata database
// (glacier's inline archives), so a full disk refuses small uploads as it
// refuses large ones.
func (s *Store) AdmitUpload() error { return s.admit() }
