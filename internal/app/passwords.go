package app

import (
	"strings"
	"unicode"
)

// commonPasswords are refused whatever their length: the most used passwords of ten
// characters or more in public breach lists, plus local favourites, and the usual
// variants of common words (a year, "123", "!" appended).
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range strings.Fields(`1234567890 0123456789 12345678910 1234567891 123456789a
	qwertyuiop azertyuiop azertyuiop1 qwertyuiop1 1q2w3e4r5t 1qaz2wsx3edc password12 password123
	password1234 motdepasse motdepasse1 motdepasse123 iloveyou12 football12 abcdefghij abcdef1234
	abc1234567 administrator admin12345 admin123456 welcome123 letmein123 passw0rd12 p@ssw0rd12
	bienvenue1 bienvenue123 soleil1234 togo123456 lome123456 changeme12 123123123123 qwerty1234
	azerty1234 azerty12345 qwerty12345 trustno1234 superman12 dragon1234 monkey1234 princess12
	sunshine12 starwars12 whatever12 1234qwerty 9876543210 1122334455 1q2w3e4r5t6y zaq12wsxcde
	qazwsxedcrfv asdfghjkl1 asdfghjklm zxcvbnm123 qwertyuiop12 1qazxsw23edc 123qweasdzxc
	password01 passwort123 contrasena1 jetaime123 jesuislameilleure doudou1234 chouchou12
	marseille13 parisienne loveyou123 bonjour1234 nicolas1234 tintin1234 poussin1234`) {
		m[p] = true
	}
	words := strings.Fields(`password motdepasse azerty qwerty soleil bonjour football iloveyou jetaime
	princesse marseille togo lome lomé ministere ministère relais blogueur blogger admin administrateur
	welcome bienvenue chocolat doudou loulou cheval amour tresor trésor liberte liberté famille
	maison nicolas camille julien thomas kodjo kossi komlan afi ama yao mensah sunshine dragon
	monkey football soccer baseball master shadow michael jennifer`)
	suffixes := []string{"", "1", "12", "123", "1234", "12345", "123456", "!", "1!", "123!", "2017",
		"2020", "2021", "2022", "2023", "2024", "2025", "2026", "2027", "228", "@123", "01", "00", "007"}
	for _, w := range words {
		for _, s := range suffixes {
			m[w+s] = true
		}
	}
	return m
}()

// isCommonPassword reports whether pw is on the list, or is one character repeated, or
// a run of a keyboard row or of digits.
func isCommonPassword(pw string) bool {
	low := strings.ToLower(pw)
	if commonPasswords[low] {
		return true
	}
	same := true
	for _, r := range low {
		same = same && r == rune(low[0])
	}
	if same {
		return true
	}
	allDigits := strings.IndexFunc(low, func(r rune) bool { return !unicode.IsDigit(r) }) < 0
	if allDigits && (strings.Contains("01234567890123456789", low) || strings.Contains("98765432109876543210", low)) {
		return true
	}
	for _, row := range []string{"qwertyuiopasdfghjklzxcvbnm", "azertyuiopqsdfghjklmwxcvbn"} {
		if strings.Contains(row, low) {
			return true
		}
	}
	return false
}
