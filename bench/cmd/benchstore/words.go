package main

// vocabulary is written roughly in order of frequency in English news copy:
// function words first, then the content words of a public-safety desk. The
// generator draws from it with a Zipf law, which gives text whose word
// frequencies, and so whose compression, resemble real prose. It must not
// contain the search words (searchCommon, searchRare, searchAbsent).
const vocabulary = `the of and to a in that is for on was with said he it as at by
from his be have has an are they but not this were who their had been its
after more one would will about two which when also or over new up there
than year last people all out first into we can could some other time three
she them over what her so no while week day years before under since against
city state police county fire emergency department officers residents
government public federal local health officials report reported according
told statement county during near where between storm water people's area
national security agency response service people today early late morning
night afternoon evening monday tuesday wednesday thursday friday saturday
sunday hospital school schools road highway bridge building buildings home
homes family families community center office court judge case charges
charged arrested suspect victim victims investigation investigators crash
vehicle vehicles driver shooting incident scene injured killed dead died
injuries condition flood flooding rain wind winds snow ice heat warning
warnings watch evacuation evacuated shelter shelters damage damaged power
outage outages crews crew utility utilities tornado hurricane wildfire
earthquake wildfires acres containment forecast weather service national
guard governor mayor council board commission chief sheriff deputy deputies
attack threat threats cyber ransomware hackers breach data systems network
networks software vulnerability vulnerabilities patch patches systems
companies company customers accounts passwords phishing email emails
intelligence terrorism terrorist extremist extremists group groups plot
border customs immigration airport airports flight flights passengers
train trains transit rail station stations port ports ship ships coast
disease outbreak cases vaccine vaccines virus infections infection patients
doctors nurses clinic clinics testing tests symptoms spread risk risks
health care medical drug drugs overdose overdoses opioid supply supplies
program programs funding budget million billion percent number numbers
plan plans policy policies law laws bill bills legislation vote votes
election elections campaign support support help helped helping need needs
says say saying asked told added noted warned urged called calls called
expected expects continue continued began begin including include includes
because however although though still already again just only even much
many most several few less least well back down off through around across
along toward without within among until later earlier recently soon now
then here once twice high low large small major minor long short full
free open closed close closing opened opening safe safety secure
dangerous serious critical severe heavy light strong weak fast slow
north south east west northern southern eastern western central downtown
river lake valley hill hills mountain mountains island islands bay beach
park parks street streets avenue neighborhood neighborhoods district
districts region regions province provinces country countries nation world
international global foreign domestic military army navy forces troops
soldiers officer official leader leaders president minister ministers
spokesperson spokesman spokeswoman director manager expert experts analyst
analysts researchers scientists study studies data information details
update updates reports news media press conference briefing meeting
meetings hearing hearings decision decisions order orders rule rules
rescue rescued rescuers search searched missing found find finding
hours minutes days weeks months percent rate rates level levels record
records total average increase increased decrease decreased rise rose
fall fell drop dropped remain remained remains stay stayed keep kept
move moved moving leave left return returned arrive arrived reach reached
issue issued issues release released announce announced confirm
confirmed deny denied investigate investigated review reviewed assess
assessment prepare prepared prevent prevented protect protected respond
responded manage managed control controlled contain contained restore
restored repair repaired replace replaced build built cost costs pay
paid money fund funds grant grants contract contracts system process
equipment resources staff workers employees volunteers teams team unit
units station chief agencies partners partner efforts effort work worked
working plan planned planning training exercise exercises drill drills
alert alerts notice notices advisory advisories guidance recommendation
recommendations measures measure steps step action actions operation
operations mission missions effort response responders first aid kits
food water fuel gas electricity heat cooling shelter beds blankets
children adults students teachers parents seniors elderly patients
people residents visitors tourists drivers commuters travelers owners
businesses stores restaurants farms farmers crops livestock animals
`

// Names and organisations give the capitalised words news copy is full of.
var (
	givenNames = []string{"Maria", "James", "Aisha", "Robert", "Linda", "Chen", "David", "Fatima", "Michael",
		"Sarah", "Carlos", "Emily", "Kwame", "Jennifer", "Ahmed", "Laura", "Daniel", "Priya", "Thomas", "Elena",
		"Joseph", "Grace", "Samuel", "Hannah", "Luis", "Olivia", "Benjamin", "Yuki", "Patrick", "Rachel"}
	surnames = []string{"Garcia", "Johnson", "Okafor", "Smith", "Nguyen", "Martinez", "Brown", "Patel", "Miller",
		"Davis", "Rodriguez", "Wilson", "Anderson", "Kim", "Thompson", "Hernandez", "Moore", "Clark", "Lewis",
		"Walker", "Hall", "Young", "Allen", "Wright", "Lopez", "Hill", "Scott", "Green", "Adams", "Baker"}
	places = []string{"Riverside", "Oak Harbor", "Millbrook", "Cedar Falls", "Port Alden", "Lakewood",
		"Fairview", "Springfield", "Clayton", "Westbury", "Greenfield", "Marion", "Brighton", "Ashland",
		"Hollis County", "Bay City", "Northgate", "Salem", "Kingston", "Dover"}
	orgs = []string{"the Department of Homeland Security", "the National Weather Service", "the county health department",
		"the state police", "the fire department", "the Federal Emergency Management Agency", "the Coast Guard",
		"the Centers for Disease Control and Prevention", "the city council", "the sheriff's office",
		"the Cybersecurity and Infrastructure Security Agency", "the transit authority", "the school district",
		"the utility company", "the Red Cross", "the National Guard", "the attorney general's office"}
	roles = []string{"a spokesperson for", "the director of", "a senior official at", "an analyst with",
		"the chief of", "a deputy at", "a researcher at", "the head of"}
)

// templates are whole sentences with slots, the repeated phrasing that
// makes real news prose compress better than random words do.
var templates = []string{
	"%[1]s, %[2]s %[3]s, said the situation in %[4]s remained under control.",
	"Officers responded to the scene shortly after %[5]d p.m. on %[6]s, according to %[3]s.",
	"No injuries were reported, but %[7]d residents of %[4]s were asked to leave their homes.",
	"%[3]s said it would release more details as the investigation continued.",
	"The warning remains in effect for %[4]s until %[5]d a.m. %[6]s, forecasters said.",
	"\"We are asking everyone to stay away from the area,\" %[1]s said in a statement.",
	"Crews worked through the night to restore power to about %[7]d customers in %[4]s.",
	"The agency said it had seen no evidence that the data had been misused.",
	"%[1]s told reporters on %[6]s that the response had been quick and well coordinated.",
	"Schools in %[4]s will remain closed on %[6]s while inspectors assess the damage.",
	"Anyone with information is asked to call %[3]s.",
	"It was not immediately clear what caused the incident, %[3]s said.",
	"The number of cases in %[4]s rose to %[7]d this week, up from the week before.",
	"State and local agencies are working together on the response, %[1]s said.",
	"The report, released on %[6]s, found that %[7]d systems had not been patched.",
}

var weekdays = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
