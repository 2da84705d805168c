// Package domain holds the plain data types shared by the connectors, the
// store and the segment core: profiles, companies, orders, external
// references, segments and memberships.
//
// The types carry no behaviour beyond normalisation helpers, so every layer
// can use them without importing another's logic. Money is exact: an integer
// count of minor units with its ISO 4217 currency, never a float.
//
// Countries are ISO 3166-1 alpha-2 codes. NormalizeCountry is the one place
// that turns what platforms hold ("UK", "Deutschland", "DEU", "Viet Nam")
// into a code; it builds on github.com/biter777/countries, a dependency-free
// package with every assigned code and many spellings, so the list of
// countries is not ours to keep current (it adds about 170 KB to a binary).
package domain
