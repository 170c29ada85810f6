//go:build !(linux && (amd64 || arm64))

package disk

// oTmpfile 0: no unnamed files; Put uses named temporary files.
const oTmpfile = 0
