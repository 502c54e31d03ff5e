package app

import "strings"

// commonPasswords are refused whatever their length: the most used passwords of length
// 10 or more in public breach lists, plus local favourites.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range strings.Fields(`1234567890 0123456789 12345678910 1234567891 123456789a
	qwertyuiop azertyuiop azertyuiop1 qwertyuiop1 1q2w3e4r5t 1qaz2wsx3edc password12 password123
	password1234 motdepasse motdepasse1 motdepasse123 iloveyou12 football12 1111111111 0000000000
	aaaaaaaaaa abcdefghij abcdef1234 abc1234567 administrator admin12345 admin123456 welcome123
	letmein123 passw0rd12 p@ssw0rd12 bienvenue1 bienvenue123 soleil1234 togo123456 lome123456
	changeme12 123123123123 qwerty1234 azerty1234 azerty12345 qwerty12345 trustno1234
	superman12 dragon1234 monkey1234 princess12 sunshine12 starwars12 whatever12 1234qwerty
	9876543210 1122334455 5555555555 7777777777 8888888888 9999999999 2222222222 3333333333`) {
		m[p] = true
	}
	return m
}()

func isCommonPassword(pw string) bool { return commonPasswords[strings.ToLower(pw)] }
