package sandbox

// Word lists the generator draws from. They are small on purpose: enough
// variety for segments and identity resolution to have something to do.

var femaleNames = []string{"Emma", "Olivia", "Ava", "Sophia", "Mia", "Amelia", "Harper", "Ella", "Chloe", "Grace",
	"Hannah", "Lena", "Clara", "Sofia", "Julia", "Marie", "Alice", "Nora", "Zoe", "Ines", "Elif", "Aisha", "Yuki", "Priya"}

var maleNames = []string{"Liam", "Noah", "Oliver", "Elijah", "James", "Lucas", "Henry", "Leo", "Jack", "Ethan",
	"Felix", "Max", "Paul", "Jonas", "Hugo", "Louis", "Mateo", "Omar", "Arjun", "Kenji", "Tom", "Daniel", "Samuel", "Ali"}

var lastNames = []string{"Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Martinez", "Wilson", "Anderson",
	"Taylor", "Thomas", "Moore", "Martin", "Lee", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green",
	"Baker", "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Dubois", "Lefebvre", "Moreau", "Rossi",
	"Russo", "Bianchi", "Jansen", "de Vries", "Andersson", "Johansson", "Nilsson", "Fernández", "López", "O'Brien",
	"Nguyen", "Kim", "Patel", "Singh", "Tanaka", "Sato", "Kowalski", "Novak"}

var personalDomains = []string{"gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "gmx.de", "hotmail.co.uk", "web.de", "orange.fr"}

// country is a market the shop sells to.
type country struct {
	code, name, phone string
	weight            float64
	cities            []string
	regions           []string
}

var countries = []country{
	{"US", "United States", "+1", 40, []string{"Austin", "Portland", "Denver", "Chicago", "Boston", "Seattle"}, []string{"TX", "OR", "CO", "IL", "MA", "WA"}},
	{"GB", "United Kingdom", "+44", 12, []string{"London", "Manchester", "Bristol", "Leeds"}, []string{"", "", "", ""}},
	{"DE", "Germany", "+49", 10, []string{"Berlin", "Hamburg", "Munich", "Cologne"}, []string{"BE", "HH", "BY", "NW"}},
	{"FR", "France", "+33", 8, []string{"Paris", "Lyon", "Marseille", "Lille"}, []string{"", "", "", ""}},
	{"CA", "Canada", "+1", 8, []string{"Toronto", "Vancouver", "Montreal", "Calgary"}, []string{"ON", "BC", "QC", "AB"}},
	{"AU", "Australia", "+61", 6, []string{"Sydney", "Melbourne", "Brisbane"}, []string{"NSW", "VIC", "QLD"}},
	{"NL", "Netherlands", "+31", 4, []string{"Amsterdam", "Utrecht", "Rotterdam"}, []string{"", "", ""}},
	{"ES", "Spain", "+34", 4, []string{"Madrid", "Barcelona", "Valencia"}, []string{"", "", ""}},
	{"IT", "Italy", "+39", 4, []string{"Milan", "Rome", "Turin"}, []string{"", "", ""}},
	{"SE", "Sweden", "+46", 4, []string{"Stockholm", "Gothenburg", "Malmö"}, []string{"", "", ""}},
}

var streets = []string{"Main St", "High Street", "Hauptstraße", "Rue de la Paix", "Oak Avenue", "Elm Road", "Market Square", "Station Road", "Via Roma", "Kungsgatan"}

var industries = []string{"Retail", "Hospitality", "Software", "Construction", "Healthcare", "Education", "Manufacturing", "Marketing", "Non-profit", "Real Estate"}

var companyWords1 = []string{"Blue", "Northern", "Bright", "Green", "Summit", "Silver", "Urban", "Harbor", "Cedar", "Golden", "Atlas", "Pioneer", "Maple", "Coastal", "Iron"}

var companyWords2 = []string{"Labs", "Works", "Studio", "Partners", "Supply", "Kitchen", "Collective", "Systems", "Outfitters", "Goods", "Health", "Builders", "Academy", "Media", "Hotels"}

var companySuffixes = []string{"Inc", "LLC", "Ltd", "GmbH", "SARL", "BV", "AB", "Co"}

// product is one item of the shop's catalogue; prices are in minor units.
type product struct {
	sku, name, category string
	price               int64
}

var catalog = []product{
	{"TEA-001", "Sencha Green Tea 100g", "tea", 1290},
	{"TEA-002", "Earl Grey Supreme 100g", "tea", 1150},
	{"TEA-003", "Rooibos Vanilla 100g", "tea", 990},
	{"TEA-004", "Matcha Ceremonial 30g", "tea", 2890},
	{"TEA-005", "Oolong Milky 50g", "tea", 1690},
	{"COF-001", "Espresso Blend 250g", "coffee", 1390},
	{"COF-002", "Ethiopia Yirgacheffe 250g", "coffee", 1790},
	{"COF-003", "Decaf Colombia 250g", "coffee", 1490},
	{"COF-004", "Cold Brew Pack", "coffee", 2190},
	{"EQP-001", "Glass Teapot 1l", "equipment", 3490},
	{"EQP-002", "Pour-over Dripper", "equipment", 2490},
	{"EQP-003", "Burr Grinder", "equipment", 8990},
	{"EQP-004", "Gooseneck Kettle", "equipment", 6490},
	{"EQP-005", "Milk Frother", "equipment", 2990},
	{"ACC-001", "Ceramic Mug", "accessories", 1490},
	{"ACC-002", "Tea Infuser", "accessories", 690},
	{"ACC-003", "Storage Tin", "accessories", 890},
	{"ACC-004", "Travel Tumbler", "accessories", 2290},
	{"GFT-001", "Tasting Gift Box", "gifts", 3990},
	{"GFT-002", "Holiday Advent Calendar", "gifts", 4990},
	{"GFT-003", "Gift Card 50", "gifts", 5000},
	{"SUB-001", "Monthly Tea Subscription", "subscription", 2400},
	{"SUB-002", "Monthly Coffee Subscription", "subscription", 2600},
	{"SNK-001", "Almond Biscotti", "snacks", 590},
	{"SNK-002", "Dark Chocolate 70%", "snacks", 450},
}

// season is a window of months in which seasonal buyers shop.
type season struct {
	name   string
	months []int // time.Month values, consecutive
}

var seasons = []season{
	{"holiday", []int{11, 12}},
	{"spring", []int{3, 4}},
	{"summer", []int{6, 7}},
	{"back_to_school", []int{8, 9}},
}

var interests = []string{"wellness", "gourmet", "sustainability", "gadgets", "gifting", "budget"}
var acquisitionSources = []string{"organic", "paid_search", "social", "referral", "email", "marketplace"}
var leadSources = []string{"Web", "Trade Show", "Partner Referral", "Advertisement", "Phone Inquiry"}

// userAgents per device, as WooCommerce records customer_user_agent.
var userAgents = map[string][]string{
	"mobile": {
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
	},
	"tablet": {
		"Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
	},
	"desktop": {
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	},
}
