// Command gen writes the sample data of the shop example: five CSV tables of
// an online shop from 2024-01-01 to 2025-12-31, with growth, seasonality,
// Black Friday and a weekly rhythm.
//
// The output depends only on the seed below, never on the clock, so every
// run writes the same bytes. From the repository root:
//
//	go run ./examples/shop/gen -out examples/shop/data
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

const seed = 20240101

const days = 731 // 2024-01-01 to 2025-12-31; 2024 is a leap year

var (
	start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) // times are shop-local (Europe/Berlin) wall clock
	end   = start.AddDate(0, 0, days)
)

// table is one CSV file.
type table struct {
	name   string
	header []string
	rows   [][]string
}

func main() {
	out := flag.String("out", "examples/shop/data", "folder to write the CSV files to")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, t := range generate() {
		if err := writeCSV(filepath.Join(dir, t.name+".csv"), t); err != nil {
			return err
		}
	}
	return nil
}

// generate builds every table. Each table draws from its own random stream,
// so changing one generator leaves the others' data as it was.
func generate() []table {
	stream := func(n uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, n)) }
	products, productTable := genProducts(stream(1))
	customers, customerTable := genCustomers(stream(2))
	orderTable, itemTable := genOrders(stream(3), customers, products)
	sessionTable := genSessions(stream(4), customers)
	return []table{orderTable, itemTable, customerTable, productTable, sessionTable}
}

func writeCSV(path string, t table) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(t.header)
	w.WriteAll(t.rows) // flushes
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// --- calendar

var (
	monthFactor   = [12]float64{0.85, 0.78, 0.88, 0.92, 0.95, 0.9, 0.86, 0.88, 0.97, 1.05, 1.3, 1.45}
	weekdayFactor = [7]float64{1.18, 1.1, 1.0, 0.98, 0.95, 0.86, 0.82} // Sunday first
	hourWeight    = [24]float64{0.5, 0.3, 0.15, 0.1, 0.1, 0.2, 0.5, 1, 1.4, 1.5, 1.5, 1.6, 1.9, 1.7, 1.5, 1.5, 1.6, 1.8, 2.1, 2.5, 2.7, 2.4, 1.7, 1}
	hourTotal     = sum(hourWeight[:])
)

// demand is the relative traffic of day d: +80% growth over the two years,
// month and weekday rhythm, Black Friday to Cyber Monday, a Christmas lull.
func demand(d int) float64 {
	day := start.AddDate(0, 0, d)
	f := (1 + 0.8*float64(d)/days) * monthFactor[day.Month()-1] * weekdayFactor[day.Weekday()]
	if blackWeekend(day) {
		f *= 2.6
	}
	if day.Month() == 12 && day.Day() >= 24 && day.Day() <= 26 {
		f *= 0.55
	}
	return f
}

// blackWeekend is Black Friday (after the fourth Thursday of November) to Cyber Monday.
func blackWeekend(day time.Time) bool {
	nov1 := time.Date(day.Year(), 11, 1, 0, 0, 0, 0, time.UTC)
	friday := nov1.AddDate(0, 0, (int(time.Thursday)-int(nov1.Weekday())+7)%7+22)
	return !day.Before(friday) && day.Before(friday.AddDate(0, 0, 4))
}

// arrivals calls fn, in time order, for the events of a random process
// averaging perDay×demand events a day, spread over the hours of the day.
func arrivals(rng *rand.Rand, perDay float64, fn func(d int, t time.Time)) {
	for d := range days {
		day := start.AddDate(0, 0, d)
		rate := perDay * demand(d) / hourTotal / 60
		for m := range 24 * 60 {
			if rng.Float64() < rate*hourWeight[m/60] {
				fn(d, day.Add(time.Duration(m)*time.Minute+time.Duration(rng.IntN(60))*time.Second))
			}
		}
	}
}

// --- products

type product struct {
	id, price, cost int // money in cents
	category        string
	weight          float64 // how often it is bought
}

type item struct {
	name string
	eur  float64 // typical price
}

var catalog = []struct {
	category  string
	brands    []string
	costShare float64 // cost as a share of the price
	items     []item
}{
	{"Electronics", []string{"Voltra", "Nordtek", "Pixelwerk"}, 0.74, []item{{"Wireless Earbuds", 79}, {"Bluetooth Speaker", 59},
		{"Smartwatch", 199}, {"Power Bank", 29}, {"Mechanical Keyboard", 119}, {"Webcam", 69}, {"E-Reader", 139}, {"Headphones", 249}}},
	{"Home & Kitchen", []string{"Haushold", "Kochwerk", "Lumina"}, 0.55, []item{{"Chef's Knife", 49}, {"Espresso Maker", 189},
		{"Cast Iron Pan", 45}, {"Desk Lamp", 39}, {"Bedding Set", 69}, {"Storage Baskets", 19}, {"Water Kettle", 35}, {"Cutting Board", 25}}},
	{"Apparel", []string{"Fjordline", "Urbanek", "Mara Lind"}, 0.42, []item{{"Wool Sweater", 89}, {"Rain Jacket", 129},
		{"Running Tee", 25}, {"Denim Jeans", 79}, {"Sneakers", 99}, {"Beanie", 19}, {"Chino Shorts", 45}, {"Hoodie", 59}}},
	{"Sports & Outdoors", []string{"Gipfel", "Trailhead", "Aqualoop"}, 0.6, []item{{"Yoga Mat", 35}, {"Trail Backpack", 89},
		{"Water Bottle", 19}, {"Resistance Bands", 15}, {"Camping Lantern", 29}, {"Cycling Gloves", 25}, {"Tent", 249}, {"Trekking Poles", 59}}},
	{"Beauty", []string{"Blumenhof", "Purista"}, 0.38, []item{{"Face Serum", 29}, {"Shampoo Bar", 9}, {"Hand Cream", 8},
		{"Lip Balm Set", 12}, {"Beard Oil", 15}, {"Sunscreen SPF 50", 14}, {"Body Lotion", 11}, {"Clay Mask", 18}}},
	{"Books & Games", []string{"Leselust", "Spielwerk"}, 0.65, []item{{"Cookbook", 29}, {"Board Game", 39}, {"Jigsaw Puzzle", 19},
		{"Travel Guide", 22}, {"Card Game", 12}, {"Sketchbook", 9}, {"Novel Box Set", 49}, {"Kids Atlas", 24}}},
}

var variants = []struct {
	suffix string
	factor float64
}{{"", 1}, {" Pro", 1.4}, {" Mini", 0.7}, {" Plus", 1.2}, {" XL", 1.15}, {" Eco", 0.9}}

func genProducts(rng *rand.Rand) ([]product, table) {
	t := table{name: "products", header: []string{"product_id", "name", "category", "brand", "price", "cost"}}
	var out []product
	for _, c := range catalog {
		for _, it := range c.items {
			brand := c.brands[rng.IntN(len(c.brands))]
			// The plain variant and up to two others, such as Pro or Mini.
			extra := rng.Perm(len(variants) - 1)[:rng.IntN(3)]
			for i := range 1 + len(extra) {
				v := 0
				if i > 0 {
					v = 1 + extra[i-1]
				}
				p := product{id: len(out) + 1, category: c.category}
				p.price = max(1, int(it.eur*variants[v].factor*(0.9+0.2*rng.Float64())+0.5))*100 - 1 // x.99
				p.cost = int(float64(p.price) * (c.costShare + 0.1*rng.Float64() - 0.05))
				p.weight = (0.3 + 3*rng.Float64()*rng.Float64()) * 60 / (float64(p.price)/100 + 60)
				out = append(out, p)
				t.rows = append(t.rows, []string{itoa(p.id), brand + " " + it.name + variants[v].suffix, c.category, brand, cents(p.price), cents(p.cost)})
			}
		}
	}
	return out, t
}

// boost makes categories seasonal: outdoor gear in summer, gifts at Christmas.
func boost(category string, month time.Month) float64 {
	switch {
	case category == "Sports & Outdoors" && month >= 5 && month <= 8:
		return 1.7
	case category == "Apparel" && (month >= 10 || month == 1):
		return 1.4
	case (category == "Electronics" || category == "Books & Games") && month >= 11:
		return 1.8
	case category == "Beauty" && month == 12:
		return 1.3
	}
	return 1
}

// --- customers

type customer struct {
	id               int
	signedUp         time.Time
	country, segment string
}

type choice struct {
	value  string
	weight float64
}

var countries = []choice{{"DE", 38}, {"AT", 10}, {"CH", 7}, {"NL", 9}, {"FR", 10}, {"BE", 5}, {"IT", 8}, {"ES", 6}, {"PL", 4}, {"SE", 3}}

func genCustomers(rng *rand.Rand) ([]customer, table) {
	t := table{name: "customers", header: []string{"customer_id", "signed_up_at", "country", "segment", "acquisition_channel"}}
	var out []customer
	arrivals(rng, 8, func(d int, at time.Time) {
		c := customer{id: len(out) + 1, signedUp: at, country: pick(rng, countries),
			segment: pick(rng, []choice{{"consumer", 77}, {"business", 15}, {"vip", 8}})}
		growth := float64(d) / days // social and paid search win share over time
		channel := pick(rng, []choice{{"organic_search", 30}, {"paid_search", 18 + 8*growth}, {"social", 10 + 12*growth}, {"referral", 10}, {"affiliate", 8}, {"direct", 16}})
		out = append(out, c)
		t.rows = append(t.rows, []string{itoa(c.id), stamp(at), c.country, c.segment, channel})
	})
	return out, t
}

// signedUpBefore returns how many customers had signed up before t.
func signedUpBefore(customers []customer, t time.Time) int {
	lo, hi := 0, len(customers)
	for lo < hi {
		if mid := (lo + hi) / 2; customers[mid].signedUp.Before(t) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// activity is how likely a customer of each segment is to order again.
var activity = map[string]float64{"vip": 1, "business": 0.6, "consumer": 0.3}

// buyer picks a customer signed up before t: often a recent sign-up, and
// VIP and business customers more often than consumers.
func buyer(rng *rand.Rand, customers []customer, t time.Time) (customer, bool) {
	n := signedUpBefore(customers, t)
	if n == 0 {
		return customer{}, false
	}
	if recent := signedUpBefore(customers, t.AddDate(0, 0, -14)); recent < n && rng.Float64() < 0.35 {
		return customers[recent+rng.IntN(n-recent)], true
	}
	for {
		if c := customers[rng.IntN(n)]; rng.Float64() < activity[c.segment] {
			return c, true
		}
	}
}

// --- orders and order items

var shippingCost = map[string]int{"DE": 490, "AT": 590, "NL": 590, "BE": 590, "FR": 790, "IT": 790, "ES": 790, "PL": 790, "SE": 790, "CH": 1290}

func genOrders(rng *rand.Rand, customers []customer, products []product) (orders, items table) {
	orders = table{name: "orders", header: []string{"order_id", "customer_id", "ordered_at", "status", "channel", "country", "amount", "discount", "shipping_cost", "items"}}
	items = table{name: "order_items", header: []string{"order_id", "product_id", "quantity", "unit_price"}}
	arrivals(rng, 12, func(d int, at time.Time) {
		c, ok := buyer(rng, customers, at)
		if !ok {
			return
		}
		id := 100001 + len(orders.rows)
		growth := float64(d) / days
		channel := pick(rng, []choice{{"web", 63 - 18*growth}, {"app", 22 + 18*growth}, {"marketplace", 15}})
		lines := 1 + pickIndex(rng, []float64{50, 28, 14, 8})
		if c.segment == "business" {
			lines += rng.IntN(3)
		}
		subtotal, count, returnRisk := 0, 0, 0.05
		seen := map[int]bool{}
		for range lines {
			p := pickProduct(rng, products, at.Month())
			if seen[p.id] {
				continue
			}
			seen[p.id] = true
			qty := 1 + pickIndex(rng, []float64{75, 18, 7})
			if c.segment == "business" {
				qty += rng.IntN(3)
			}
			if p.category == "Apparel" {
				returnRisk = 0.14
			}
			subtotal += qty * p.price
			count += qty
			items.rows = append(items.rows, []string{itoa(id), itoa(p.id), itoa(qty), cents(p.price)})
		}
		discount := 0
		if blackWeekend(at) && rng.Float64() < 0.6 {
			discount = subtotal * 25 / 100
		} else if rng.Float64() < 0.18 {
			discount = subtotal * (10 + 5*rng.IntN(3)) / 100
		}
		amount := subtotal - discount
		shipping := 0
		if amount < 4900 { // free shipping from 49 EUR
			shipping = shippingCost[c.country]
		}
		orders.rows = append(orders.rows, []string{itoa(id), itoa(c.id), stamp(at), status(rng, at, returnRisk), channel, c.country, cents(amount), cents(discount), cents(shipping), itoa(count)})
	})
	return orders, items
}

func pickProduct(rng *rand.Rand, products []product, month time.Month) product {
	total := 0.0
	for _, p := range products {
		total += p.weight * boost(p.category, month)
	}
	x := rng.Float64() * total
	for _, p := range products {
		if x -= p.weight * boost(p.category, month); x < 0 {
			return p
		}
	}
	return products[len(products)-1]
}

// status depends on the order's age at the end of the data.
func status(rng *rand.Rand, at time.Time, returnRisk float64) string {
	age := end.Sub(at)
	switch x := rng.Float64(); {
	case x < 0.03:
		return "cancelled"
	case age < 2*24*time.Hour:
		return "pending"
	case age < 7*24*time.Hour:
		return "shipped"
	case x < 0.03+returnRisk:
		return "returned"
	}
	return "completed"
}

// --- web sessions

var funnel = []string{"landing", "product_view", "add_to_cart", "checkout", "purchase"}

func genSessions(rng *rand.Rand, customers []customer) table {
	t := table{name: "web_sessions", header: []string{"session_id", "started_at", "customer_id", "device", "source", "country", "pageviews", "duration_seconds", "converted", "funnel_stage"}}
	deviceLift := map[string]float64{"desktop": 1.3, "mobile": 0.8, "tablet": 1}
	sourceLift := map[string]float64{"organic_search": 1, "paid_search": 1.1, "social": 0.6, "email": 1.6, "direct": 1.3, "referral": 1.1}
	secondsPerPage := map[string]float64{"desktop": 55, "mobile": 36, "tablet": 46}
	arrivals(rng, 20, func(d int, at time.Time) {
		mobile := 52 + 12*float64(d)/days
		device := pick(rng, []choice{{"mobile", mobile}, {"desktop", 92 - mobile}, {"tablet", 8}})
		source := pick(rng, []choice{{"organic_search", 30}, {"paid_search", 22}, {"social", 15}, {"email", 8}, {"direct", 17}, {"referral", 8}})
		lift := deviceLift[device] * sourceLift[source]
		// How far down the funnel the session got: each step is a hurdle,
		// and adding to the cart is where device and source matter most.
		stage := 0
		for _, p := range []float64{0.55, 0.28 * lift, 0.5, min(0.48, 0.4+0.06*(lift-1))} {
			if rng.Float64() >= p {
				break
			}
			stage++
		}
		customerID, country := "", pick(rng, countries)
		if stage >= 3 || rng.Float64() < 0.25 { // checkout needs an account
			if c, ok := buyer(rng, customers, at); ok {
				customerID, country = itoa(c.id), c.country
			} else {
				stage = min(stage, 2)
			}
		}
		pageviews := 1
		if stage > 0 {
			pageviews = 2*stage + rng.IntN(4+3*stage)
		}
		seconds := 3 + rng.IntN(45)
		if pageviews > 1 {
			seconds = int(float64(pageviews) * secondsPerPage[device] * (0.6 + 0.8*rng.Float64()))
		}
		t.rows = append(t.rows, []string{itoa(len(t.rows) + 1), stamp(at), customerID, device, source, country,
			itoa(pageviews), itoa(seconds), strconv.FormatBool(stage == 4), funnel[stage]})
	})
	return t
}

// --- helpers

func pick(rng *rand.Rand, choices []choice) string {
	w := make([]float64, len(choices))
	for i, c := range choices {
		w[i] = c.weight
	}
	return choices[pickIndex(rng, w)].value
}

func pickIndex(rng *rand.Rand, weights []float64) int {
	x := rng.Float64() * sum(weights)
	for i, w := range weights {
		if x -= w; x < 0 {
			return i
		}
	}
	return len(weights) - 1
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

func itoa(n int) string        { return strconv.Itoa(n) }
func cents(c int) string       { return fmt.Sprintf("%d.%02d", c/100, c%100) }
func stamp(t time.Time) string { return t.Format(time.DateTime) }
