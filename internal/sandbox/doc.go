// Package sandbox is what `connector sandbox` and `connector demo` run:
// a seeded generator of a small business's customers (Generate) and the
// three fake platforms (connectors/*/…fake) served on loopback and seeded
// with that business (Start), with the credentials and adapter configs
// needed to point the real connectors at them, and a webhook firer that
// changes records in the fakes and lets each fake send its own signed
// webhook to the daemon.
//
// The generator follows the Pareto/NBD story with Gamma-Gamma spend: each
// buyer purchases as a Poisson process whose rate λ ~ Gamma(r, α) varies
// across customers, until an unobserved dropout after an Exponential(μ)
// lifetime with μ ~ Gamma(s, β); each order's value is Gamma(p, ν) with
// ν ~ Gamma(q, γ) per customer. Around that it adds what segmentation
// needs to find: seasonal buyers (orders only in the same months each
// year), bulk buyers, guest orders, leads without orders, prospects with
// open deals, companies with firmographics, devices, channels, countries,
// demographics and custom attributes, and the same people on several
// platforms under different ids and email casings.
//
// Randomness is math/rand/v2's PCG seeded from GenOptions.Seed, and the
// Gamma draws are gonum's stat/distuv (already a dependency of the core,
// and a reviewed sampler rather than a hand-written one), so one seed
// always gives the same dataset; the generator never reads the clock
// (GenOptions.AsOf is the present).
package sandbox
