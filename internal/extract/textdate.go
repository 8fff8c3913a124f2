package extract

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Month names and abbreviations in the languages the feeds carry, lower
// case, mapped to their month number. Genitive forms (Slavic "března",
// "марта") are listed as printed.
var monthNames = buildMonthNames()

func buildMonthNames() map[string]time.Month {
	monthNames := map[string]time.Month{}
	for m, names := range [12]string{
		"january jan janeiro januar janvier enero gennaio januari januar stycznia ledna января январь ene gen jänner januára januára tammikuuta ianuarie ocak",
		"february feb fevereiro februar février fevrier febrero febbraio februari lutego února февраля февраль fev februára helmikuuta februarie şubat",
		"march mar março marco märz maerz mars marzo maart marca března марта март mär marec maaliskuuta martie mart",
		"april apr abril avril aprile kwietnia dubna апреля апрель abr avr apríla huhtikuuta aprilie nisan",
		"may mai maio mayo maggio mei maja května мая май mája toukokuuta mayıs",
		"june jun junho juni juin junio giugno czerwca června июня июнь júna kesäkuuta iunie haziran",
		"july jul julho juli juillet julio luglio lipca července июля июль lug júla heinäkuuta iulie temmuz",
		"august aug agosto août aout augustus sierpnia srpna августа август ago augusta elokuuta august ağustos",
		"september sep sept setembro septembre septiembre settembre września září сентября сентябрь set septembra syyskuuta septembrie eylül",
		"october oct outubro oktober octobre octubre ottobre października října октября октябрь out okt ott októbra lokakuuta octombrie ekim",
		"november nov novembro novembre noviembre listopada listopadu ноября ноябрь novembra marraskuuta noiembrie kasım",
		"december dec dezembro dezember décembre decembre diciembre dicembre grudnia prosince декабря декабрь dez dic déc decembra joulukuuta decembrie aralık",
	} {
		for _, n := range strings.Fields(names) {
			if _, ok := monthNames[n]; !ok {
				monthNames[n] = time.Month(m + 1)
			}
		}
	}
	return monthNames
}

var (
	// "March 3, 2020", "Nov. 19, 2019"
	reTextMDY = regexp.MustCompile(`(?i)(\p{L}{3,12})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+((?:19|20)\d{2})`)
	// "3 March 2020", "5. März 2020", "3 de abril de 2020", "24 сентября 2018"
	reTextDMY = regexp.MustCompile(`(?i)(\d{1,2})(?:\.|º|er)?\s+(?:de\s+)?(\p{L}{3,12})\.?,?\s+(?:de\s+)?((?:19|20)\d{2})`)
	// "3.4.2020", "03/04/2020", "2020-04-03", "3. 4. 2020"
	reTextNum = regexp.MustCompile(`(^|[^\d])(\d{1,2})\.\s?(\d{1,2})\.\s?((?:19|20)\d{2})|(^|[^\d])((?:19|20)\d{2})-(\d{2})-(\d{2})|(^|[^\d])(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})`)
	// an optional time of day right after the date: "14:20", "11:30 Uhr", "08h45", "9:02 AM"
	reTextTime = regexp.MustCompile(`(?i)^[\s,|·•–—-]*(?:à|at|um|alle|às|a las|в)?\s*(\d{1,2})[:h](\d{2})(?:\s*([ap])\.?m\.?)?`)
)

// dateFromText finds a date written in visible text, in any of the common
// formats and languages, and returns it with its time of day when one
// follows. Numeric dates with slashes are read month first on English pages
// (American usage, or no language given) and day first elsewhere; dotted dates are always day first. A time found
// without a zone is given no offset (UTC), as the page states none.
func dateFromText(s, lang string) time.Time {
	if len(s) > 300 || !hasYear(s) {
		return time.Time{}
	}
	type hit struct {
		at, end int
		y, d    int
		m       time.Month
	}
	var best *hit
	consider := func(h hit) {
		if h.d < 1 || h.d > 31 || h.m < 1 || h.m > 12 || h.y < 1990 || h.y > 2100 {
			return
		}
		if best == nil || h.at < best.at {
			hh := h
			best = &hh
		}
	}
	for _, m := range reTextMDY.FindAllStringSubmatchIndex(s, 3) {
		if mo, ok := monthNames[strings.ToLower(s[m[2]:m[3]])]; ok {
			d, _ := strconv.Atoi(s[m[4]:m[5]])
			y, _ := strconv.Atoi(s[m[6]:m[7]])
			consider(hit{m[0], m[1], y, d, mo})
		}
	}
	for _, m := range reTextDMY.FindAllStringSubmatchIndex(s, 3) {
		if mo, ok := monthNames[strings.ToLower(s[m[4]:m[5]])]; ok {
			d, _ := strconv.Atoi(s[m[2]:m[3]])
			y, _ := strconv.Atoi(s[m[6]:m[7]])
			consider(hit{m[0], m[1], y, d, mo})
		}
	}
	for _, m := range reTextNum.FindAllStringSubmatchIndex(s, 3) {
		g := func(i int) int { v, _ := strconv.Atoi(s[m[2*i]:m[2*i+1]]); return v }
		switch {
		case m[4] >= 0:
			consider(hit{m[4], m[1], g(4), g(2), time.Month(g(3))})
		case m[12] >= 0:
			consider(hit{m[12], m[1], g(6), g(8), time.Month(g(7))})
		case m[20] >= 0:
			a, b := g(10), g(11)
			if monthFirst(lang) {
				if a <= 12 {
					a, b = b, a
				}
			}
			// a is now the day, b the month
			consider(hit{m[20], m[1], g(12), a, time.Month(b)})
		}
	}
	if best == nil {
		return time.Time{}
	}
	hour, min := 0, 0
	if t := reTextTime.FindStringSubmatch(s[best.end:]); t != nil {
		hour, _ = strconv.Atoi(t[1])
		min, _ = strconv.Atoi(t[2])
		if t[3] != "" {
			if hour == 12 {
				hour = 0
			}
			if strings.EqualFold(t[3], "p") {
				hour += 12
			}
		}
		if hour > 23 || min > 59 {
			hour, min = 0, 0
		}
	}
	t := time.Date(best.y, best.m, best.d, hour, min, 0, 0, time.UTC)
	if t.Day() != best.d {
		return time.Time{} // 31 April and the like
	}
	return t
}

// monthFirst: American usage writes 11/05/2018 for November 5; most of
// the world, including British English, for 11 May.
func monthFirst(lang string) bool {
	switch strings.ToLower(strings.ReplaceAll(lang, "_", "-")) {
	case "", "en", "en-us", "en-ca", "en-ph":
		return true
	}
	return false
}

// hasYear is a cheap test for four digits starting 19 or 20, which every
// date the patterns accept contains; most text nodes have none.
func hasYear(s string) bool {
	for i := 0; i+3 < len(s); i++ {
		if (s[i] == '1' && s[i+1] == '9' || s[i] == '2' && s[i+1] == '0') && s[i+2] >= '0' && s[i+2] <= '9' && s[i+3] >= '0' && s[i+3] <= '9' {
			return true
		}
	}
	return false
}
