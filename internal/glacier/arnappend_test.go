package glacier

import "testing"

func TestAppendVaultARN(t *testing.T) {
	for _, c := range [][3]string{{"us-east-1", "123456789012", "v"}, {"", "", ""}, {"eu-west-3", "-", "déjà vu"}} {
		if got, want := string(AppendVaultARN([]byte("x"), c[0], c[1], c[2])), "x"+VaultARN(c[0], c[1], c[2]); got != want {
			t.Errorf("AppendVaultARN%q = %q, want %q", c, got, want)
		}
	}
}
