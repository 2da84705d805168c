// Package domain holds the plain data types shared by the connectors, the
// store and the segment core: profiles, companies, orders, external
// references, segments and memberships.
//
// The types carry no behaviour beyond normalisation helpers, so every layer
// can use them without importing another's logic. Money is exact: an integer
// count of minor units with its ISO 4217 currency, never a float.
package domain
