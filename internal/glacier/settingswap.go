package glacier

import "context"

// SettingSwapper is the store ability of replacing a setting only when it
// still holds the value the caller read: a compare-and-swap, atomic also
// across processes and nodes sharing the store. Nodes that each read a
// setting, compute a new value and store it would otherwise lose one
// another's changes (the test clock's offset), or both act on one reading
// (the scheduler's claim of a housekeeping pass).
type SettingSwapper interface {
	// SwapSetting stores value under key only if the key holds old, and
	// reports whether it did. An old of "" matches an unset key as well as
	// one stored as "". When it reports false nothing changed: another
	// writer got there first, and the caller reads again.
	SwapSetting(ctx context.Context, key, old, value string) (bool, error)
}
