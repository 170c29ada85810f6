package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// machineInfo describes where the figures were taken: they mean nothing
// without it.
func machineInfo(root, dataDir string) []string {
	cpu := firstField("/proc/cpuinfo", "model name")
	mem := firstField("/proc/meminfo", "MemTotal")
	var memGiB float64
	fmt.Sscanf(mem, "%f", &memGiB)
	memGiB /= 1 << 20
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fsType, dev := filesystemOf(dataDir)
	return []string{
		"date: " + time.Now().Format(time.RFC3339),
		fmt.Sprintf("CPU: %s, %d cores (GOMAXPROCS %d)", cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0)),
		fmt.Sprintf("RAM: %.1f GiB", memGiB),
		fmt.Sprintf("OS: Linux %s; data disk: %s on %s", strings.TrimSpace(string(kernel)), fsType, dev),
		"Go: " + runtime.Version(),
		"permafrost: " + gitDescribe(root),
		"load average at start (1/5/15 min): " + loadAverage() + " — the machine may be shared; figures move with it",
	}
}

// firstField returns the value of the first "key : value" line of a /proc
// file.
func firstField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// filesystemOf returns the filesystem type and device of the mount
// holding path (the longest mount point that prefixes it).
func filesystemOf(path string) (fsType, dev string) {
	abs, _ := filepath.Abs(path)
	data, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "unknown", "unknown"
	}
	best := -1
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		mp := f[1]
		if (abs == mp || strings.HasPrefix(abs, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > best {
			best, dev, fsType = len(mp), f[0], f[2]
		}
	}
	if best < 0 {
		return "unknown", "unknown"
	}
	return fsType, dev
}

// gitDescribe is the commit the tree is at, marked when it has local
// changes.
func gitDescribe(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown commit"
	}
	s := "commit " + strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		s += " with uncommitted changes"
	}
	return s
}

// motoVersion asks moto_server's own interpreter for moto's version.
func motoVersion(script string) string {
	f, err := os.Open(script)
	if err != nil {
		return "version unknown"
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	python := strings.TrimSpace(strings.TrimPrefix(line, "#!"))
	if python == "" || strings.ContainsAny(python, " ") {
		python = "python3"
	}
	out, err := exec.Command(python, "-c", "import moto; print(moto.__version__)").Output()
	if err != nil {
		return "version unknown"
	}
	return "moto " + strings.TrimSpace(string(out))
}

// dropCaches writes dirty pages back and drops the page cache, reporting
// whether that worked (it needs root and a writable /proc/sys).
func dropCaches() bool {
	if err := exec.Command("sync").Run(); err != nil {
		return false
	}
	f, err := os.OpenFile("/proc/sys/vm/drop_caches", os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.WriteString("3\n")
	return err == nil
}

// loadAverage is the 1, 5 and 15 minute load average.
func loadAverage() string {
	load, _ := os.ReadFile("/proc/loadavg")
	fields := strings.Fields(string(load))
	if len(fields) > 3 {
		fields = fields[:3]
	}
	return strings.Join(fields, " ")
}
