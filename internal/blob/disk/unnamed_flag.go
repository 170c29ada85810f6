//go:build linux && (amd64 || arm64)

package disk

// oTmpfile is Linux's O_TMPFILE (__O_TMPFILE | O_DIRECTORY) on amd64 and
// arm64.
const oTmpfile = 0x410000
