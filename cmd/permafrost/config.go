package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/notify"
)

// flagSet returns a FlagSet whose usage lists every flag with its
// PERMAFROST_* environment twin.
func flagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: permafrost %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// envName is the environment twin of a flag: --data-dir → PERMAFROST_DATA_DIR.
func envName(flagName string) string {
	return "PERMAFROST_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// stringFlag binds --name and PERMAFROST_NAME; the flag wins over the
// environment, which wins over def.
func stringFlag(fs *flag.FlagSet, p *string, name, def, help string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		def = v
	}
	fs.StringVar(p, name, def, help+" (env "+envName(name)+")")
}

func boolFlag(fs *flag.FlagSet, p *bool, name string, def bool, help string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if b, err := strconv.ParseBool(v); err == nil {
			def = b
		}
	}
	fs.BoolVar(p, name, def, help+" (env "+envName(name)+")")
}

func durationFlag(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, help string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if d, err := time.ParseDuration(v); err == nil {
			def = d
		}
	}
	fs.DurationVar(p, name, def, help+" (env "+envName(name)+")")
}

func int64Flag(fs *flag.FlagSet, p *int64, name string, def int64, help string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			def = n
		}
	}
	fs.Int64Var(p, name, def, help+" (env "+envName(name)+")")
}

func intFlag(fs *flag.FlagSet, p *int, name string, def int, help string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		if n, err := strconv.Atoi(v); err == nil {
			def = n
		}
	}
	fs.IntVar(p, name, def, help+" (env "+envName(name)+")")
}

// listFlag binds a repeatable --name; its environment twin holds the
// values separated by whitespace. Flags given replace the environment's.
func listFlag(fs *flag.FlagSet, p *[]string, name, help string) {
	if v, ok := os.LookupEnv(envName(name)); ok {
		*p = strings.Fields(v)
	}
	fromEnv := true
	fs.Func(name, help+" (env "+envName(name)+", space-separated)", func(v string) error {
		if fromEnv {
			*p, fromEnv = nil, false
		}
		*p = append(*p, v)
		return nil
	})
}

// parseJobDelays parses --job-delays: "none" (every job completes at
// once) or comma-separated tier=duration pairs for expedited, standard,
// bulk and inventory; tiers not named keep their defaults.
func parseJobDelays(v string) (map[string]time.Duration, error) {
	names := map[string]string{"expedited": glacier.TierExpedited, "standard": glacier.TierStandard, "bulk": glacier.TierBulk, "inventory": "inventory"}
	out := map[string]time.Duration{}
	if strings.TrimSpace(v) == "none" {
		for _, k := range names {
			out[k] = 0
		}
		return out, nil
	}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, d, ok := strings.Cut(part, "=")
		key, known := names[strings.ToLower(strings.TrimSpace(k))]
		dur, err := time.ParseDuration(strings.TrimSpace(d))
		if !ok || !known || err != nil || dur < 0 {
			return nil, usageError{fmt.Sprintf("--job-delays: %q must be tier=duration with tier expedited, standard, bulk or inventory (e.g. standard=3h), or the word none", part)}
		}
		out[key] = dur
	}
	return out, nil
}

// snsEndpoints reads --sns-endpoint and --sns-topics-file.
func (c Config) snsEndpoints() (notify.Topics, error) {
	var file io.Reader
	if c.SNSTopicsFile != "" {
		f, err := os.Open(c.SNSTopicsFile)
		if err != nil {
			return notify.Topics{}, usageError{fmt.Sprintf("--sns-topics-file: %v", err)}
		}
		defer f.Close()
		file = f
	}
	t, err := notify.ParseTopics(c.SNSEndpoints, file)
	if err != nil {
		return notify.Topics{}, usageError{err.Error()}
	}
	return t, nil
}

// parseFlags parses args and refuses stray arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

const defaultDataDir = "./permafrost-data"
