//! Closed-form and exactly computable queueing results (single queues, closed networks, load balancing, caches) that simulations are checked against.
//!
//! Conventions shared by every function here:
//! - rates (`lambda`, `mu`) are per unit time and means are in the same unit, whatever the caller uses;
//! - `rho` is the per-server utilisation `lambda / (c * mu)`;
//! - functions whose model can be unstable return `Option<f64>` and give `None` for `rho >= 1`
//!   or for inputs outside their domain (negative or non-finite rates, etc.);
//! - functions whose model is always stable return `f64` and panic on inputs outside their domain,
//!   because such inputs are programming errors, not states of the system (each says so under `# Panics`).
//!
//! Main references: L. Kleinrock, *Queueing Systems, Vol. 1: Theory* (Wiley, 1975);
//! M. Harchol-Balter, *Performance Modeling and Design of Computer Systems* (CUP, 2013);
//! E. Lazowska et al., *Quantitative System Performance* (Prentice-Hall, 1984).

/// Euler–Mascheroni constant (`std::f64::consts::EGAMMA` is not stable yet).
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

fn is_positive_finite(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

fn is_nonnegative_finite(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

/// `mu - lambda` for a valid, stable M/M/1 queue.
fn mm1_spare_rate(lambda: f64, mu: f64) -> Option<f64> {
    if !is_nonnegative_finite(lambda) || !is_positive_finite(mu) || lambda >= mu {
        return None;
    }
    Some(mu - lambda)
}

// ---------------------------------------------------------------------------------------------
// M/M/1
// ---------------------------------------------------------------------------------------------

/// Mean sojourn (response) time of an M/M/1 queue: `T = 1 / (mu - lambda)`.
///
/// Assumptions: Poisson arrivals of rate `lambda`, exponential service of rate `mu`, one server,
/// infinite buffer, any work-conserving discipline that does not use service times (FIFO, PS, LCFS).
///
/// Returns `None` if `lambda >= mu` (unstable), `lambda < 0`, `mu <= 0` or an input is not finite.
///
/// Reference: Kleinrock (1975), §3.2, eq. (3.26).
pub fn mm1_mean_sojourn(lambda: f64, mu: f64) -> Option<f64> {
    mm1_spare_rate(lambda, mu).map(|spare| 1.0 / spare)
}

/// Quantile `q` of the sojourn time of a FIFO M/M/1 queue: `-ln(1 - q) / (mu - lambda)`.
///
/// Under FIFO the sojourn time is exactly exponential with rate `mu - lambda`, so its quantiles are
/// those of `Exp(mu - lambda)`. (Under PS or LCFS only the mean is the same, not the distribution.)
///
/// Returns `None` if the queue is unstable or invalid (as [`mm1_mean_sojourn`]) or `q` is not in `[0, 1)`.
///
/// Reference: Kleinrock (1975), §3.2, eq. (3.28) (sojourn-time distribution).
pub fn mm1_sojourn_quantile(lambda: f64, mu: f64, q: f64) -> Option<f64> {
    if !(0.0..1.0).contains(&q) {
        return None;
    }
    // ln_1p keeps the small quantiles accurate, where 1 - q would lose digits.
    mm1_spare_rate(lambda, mu).map(|spare| -(-q).ln_1p() / spare)
}

/// Mean waiting time (time in queue before service starts) of an M/M/1 queue:
/// `W_q = rho / (mu - lambda)` with `rho = lambda / mu`.
///
/// Returns `None` when unstable or invalid (as [`mm1_mean_sojourn`]).
///
/// Reference: Kleinrock (1975), §3.2.
pub fn mm1_mean_wait(lambda: f64, mu: f64) -> Option<f64> {
    mm1_spare_rate(lambda, mu).map(|spare| lambda / (mu * spare))
}

/// Mean number waiting (not counting the one in service) in an M/M/1 queue:
/// `L_q = rho^2 / (1 - rho)`.
///
/// Computed as `rho * lambda / (mu - lambda)`, because `mu - lambda` is exact where `1 - rho`
/// would carry the rounding error of `rho` amplified near saturation.
///
/// Returns `None` when unstable or invalid (as [`mm1_mean_sojourn`]).
///
/// Reference: Kleinrock (1975), §3.2.
pub fn mm1_mean_queue_len(lambda: f64, mu: f64) -> Option<f64> {
    mm1_spare_rate(lambda, mu).map(|spare| (lambda / mu) * lambda / spare)
}

// ---------------------------------------------------------------------------------------------
// M/M/c/c and M/M/c
// ---------------------------------------------------------------------------------------------

/// Erlang B: blocking probability of an M/M/c/c loss system (`c` servers, no waiting room) with
/// offered load `a = lambda / mu` Erlangs.
///
/// `B(c, a) = (a^c / c!) / sum_{k=0}^{c} a^k / k!`, evaluated by the recurrence
/// `B(0) = 1`, `B(k) = a B(k-1) / (k + a B(k-1))`, which never forms a power or a factorial and so
/// neither overflows nor cancels for any `c`. The result is insensitive to the service-time
/// distribution beyond its mean (it also holds for M/G/c/c).
///
/// # Panics
/// If `offered_load_a` is negative or not finite.
///
/// Reference: Harchol-Balter (2013), §16.3; recurrence as in D. L. Jagerman, "Some properties of
/// the Erlang loss function", Bell Syst. Tech. J. 53 (1974).
pub fn erlang_b(c: u32, offered_load_a: f64) -> f64 {
    assert!(
        is_nonnegative_finite(offered_load_a),
        "erlang_b: offered load must be finite and >= 0, got {offered_load_a}"
    );
    let a = offered_load_a;
    (1..=c).fold(1.0, |b, k| {
        let ab = a * b;
        ab / (f64::from(k) + ab)
    })
}

/// Erlang C: probability that an arrival has to wait in an M/M/c queue with offered load
/// `a = lambda / mu` (requires `a < c`).
///
/// Obtained from Erlang B as `C(c, a) = c B / (c - a (1 - B))`, which inherits the stability of
/// the B recurrence; the denominator is `c - a + a B > 0` whenever `a < c`, so nothing cancels.
///
/// Returns `None` if `c == 0`, `a >= c` (unstable), or `a` is negative or not finite.
///
/// Reference: Harchol-Balter (2013), §14.4–14.5 (relation between Erlang B and C).
pub fn erlang_c(c: u32, offered_load_a: f64) -> Option<f64> {
    let a = offered_load_a;
    if c == 0 || !is_nonnegative_finite(a) || a >= f64::from(c) {
        return None;
    }
    let b = erlang_b(c, a);
    let cf = f64::from(c);
    Some(cf * b / (cf - a * (1.0 - b)))
}

/// Mean waiting time in queue of an M/M/c queue: `W_q = C(c, a) / (c mu - lambda)` with
/// `a = lambda / mu` and `C` the Erlang C probability ([`erlang_c`]).
///
/// Returns `None` if `lambda >= c mu` (unstable), `c == 0`, `lambda < 0`, `mu <= 0` or an input
/// is not finite.
///
/// Reference: Harchol-Balter (2013), §14.5; Kleinrock (1975), §3.5.
pub fn mmc_mean_wait(lambda: f64, mu: f64, c: u32) -> Option<f64> {
    if !is_nonnegative_finite(lambda) || !is_positive_finite(mu) {
        return None;
    }
    let prob_wait = erlang_c(c, lambda / mu)?;
    let spare = f64::from(c) * mu - lambda;
    // erlang_c checks a < c on the rounded ratio; this guards the rate form of the same condition.
    if spare <= 0.0 {
        return None;
    }
    Some(prob_wait / spare)
}

/// Mean sojourn time of an M/M/c queue: `T = W_q + 1 / mu` (see [`mmc_mean_wait`]).
///
/// Returns `None` under the same conditions as [`mmc_mean_wait`].
///
/// Reference: Harchol-Balter (2013), §14.5.
pub fn mmc_mean_sojourn(lambda: f64, mu: f64, c: u32) -> Option<f64> {
    mmc_mean_wait(lambda, mu, c).map(|w| w + 1.0 / mu)
}

// ---------------------------------------------------------------------------------------------
// M/M/1/K
// ---------------------------------------------------------------------------------------------

fn assert_mm1k_rates(lambda: f64, mu: f64) {
    assert!(
        is_nonnegative_finite(lambda),
        "M/M/1/K: lambda must be finite and >= 0, got {lambda}"
    );
    assert!(
        is_positive_finite(mu),
        "M/M/1/K: mu must be finite and > 0, got {mu}"
    );
}

/// Stationary probabilities of the two end states of M/M/1/K for `rho != 1`, `rho > 0`, `k >= 1`:
/// `(near, far)`, where "near" is the end the drift pushes towards (state 0 when `rho < 1`,
/// state K when `rho > 1`) and "far" is the other one.
///
/// Reflecting `j -> K - j` maps `rho` to `1 / rho`, so both cases reduce to the truncated geometric
/// `pi_j ∝ e^{-j y}`, `y = |ln rho| > 0`. Writing the sums with `expm1` avoids the cancellation of
/// `(1 - rho) / (1 - rho^{K+1})` near `rho = 1`, and nothing overflows for large `rho`.
fn mm1k_end_probs(rho: f64, k: u32) -> (f64, f64) {
    let y = rho.ln().abs();
    let states = f64::from(k) + 1.0;
    let near = (-y).exp_m1() / (-states * y).exp_m1();
    let far = (-f64::from(k) * y).exp() * near;
    (near, far)
}

/// Mean of the truncated geometric distribution `pi_j ∝ e^{-j y}`, `j = 0..=k`, for `y > 0`.
///
/// Closed form `1/expm1(y) - (k+1)/expm1((k+1) y)`; its two terms are each about `1/y` and cancel
/// when `(k+1) y` is small, so there the Bernoulli-number series of `1/expm1` is used instead
/// (truncation error below 1e-16 relative for `(k+1) y < 0.1`).
fn truncated_geometric_mean(y: f64, k: u32) -> f64 {
    let m = f64::from(k) + 1.0;
    let t = m * y;
    if t < 0.1 {
        let m2 = m * m;
        let (y2, y3) = (y * y, y * y * y);
        f64::from(k) / 2.0 - (m2 - 1.0) * y / 12.0 + (m2 * m2 - 1.0) * y3 / 720.0
            - (m2 * m2 * m2 - 1.0) * y3 * y2 / 30_240.0
            + (m2 * m2 * m2 * m2 - 1.0) * y3 * y2 * y2 / 1_209_600.0
    } else {
        1.0 / y.exp_m1() - m / t.exp_m1()
    }
}

/// Blocking probability of an M/M/1/K queue, `K` = total capacity including the customer in
/// service: `P_K = (1 - rho) rho^K / (1 - rho^{K+1})`, and exactly `1 / (K + 1)` when `rho == 1`.
///
/// By PASTA this is both the fraction of arrivals turned away and the time-stationary probability
/// that the system is full. Always stable (any `rho`, including `rho > 1`). `K = 0` gives 1
/// (nothing is ever admitted); `lambda = 0` gives 0 for `K >= 1`.
///
/// # Panics
/// If `lambda < 0`, `mu <= 0`, or either is not finite.
///
/// Reference: Kleinrock (1975), §3.6, eq. (3.44)–(3.45).
pub fn mm1k_blocking(lambda: f64, mu: f64, k: u32) -> f64 {
    assert_mm1k_rates(lambda, mu);
    if k == 0 {
        return 1.0;
    }
    if lambda == 0.0 {
        return 0.0;
    }
    let rho = lambda / mu;
    if rho == 1.0 {
        return 1.0 / (f64::from(k) + 1.0);
    }
    let (near, far) = mm1k_end_probs(rho, k);
    if rho < 1.0 { far } else { near }
}

/// Mean number in an M/M/1/K system (waiting plus in service):
/// `L = rho/(1-rho) - (K+1) rho^{K+1} / (1 - rho^{K+1})`, and `K / 2` when `rho == 1`.
///
/// Evaluated without cancellation near `rho = 1` (series) and without overflow for large `rho`
/// (reflection `L(rho) = K - L(1/rho)`), so it is accurate for every `rho` and `K`.
///
/// # Panics
/// If `lambda < 0`, `mu <= 0`, or either is not finite.
///
/// Reference: Kleinrock (1975), §3.6.
pub fn mm1k_mean_in_system(lambda: f64, mu: f64, k: u32) -> f64 {
    assert_mm1k_rates(lambda, mu);
    if k == 0 || lambda == 0.0 {
        return 0.0;
    }
    let rho = lambda / mu;
    if rho == 1.0 {
        return f64::from(k) / 2.0;
    }
    let toward_zero = truncated_geometric_mean(rho.ln().abs(), k);
    if rho < 1.0 {
        toward_zero
    } else {
        f64::from(k) - toward_zero
    }
}

/// Mean sojourn time of the customers admitted to an M/M/1/K queue, by Little's law with the
/// accepted rate: `T = L / (lambda (1 - P_K))`.
///
/// The accepted rate is computed as `lambda (1 - P_K)` when `rho <= 1` and as the equal
/// `mu (1 - P_0)` when `rho > 1`, so that the subtracted probability is always the small end one
/// and `1 - P` does not cancel. With `lambda = 0` this returns the limit `1 / mu`.
///
/// # Panics
/// If `k == 0` (no customer is ever admitted, so there is no sojourn), `lambda < 0`, `mu <= 0`, or
/// either is not finite.
///
/// Reference: Kleinrock (1975), §3.6 and §2.1 (Little's law).
pub fn mm1k_mean_sojourn(lambda: f64, mu: f64, k: u32) -> f64 {
    assert_mm1k_rates(lambda, mu);
    assert!(
        k >= 1,
        "mm1k_mean_sojourn: capacity K must be >= 1 (K = 0 admits nobody)"
    );
    if lambda == 0.0 {
        return 1.0 / mu;
    }
    let rho = lambda / mu;
    let far = if rho == 1.0 {
        1.0 / (f64::from(k) + 1.0)
    } else {
        mm1k_end_probs(rho, k).1
    };
    let accepted = lambda.min(mu) * (1.0 - far);
    mm1k_mean_in_system(lambda, mu, k) / accepted
}

// ---------------------------------------------------------------------------------------------
// M/G/1
// ---------------------------------------------------------------------------------------------

/// Mean waiting time in queue of an M/G/1 FIFO queue (Pollaczek–Khinchine):
/// `W_q = lambda E[S^2] / (2 (1 - rho))`, `rho = lambda E[S]`.
///
/// `second_moment_s` is `E[S^2] = Var[S] + E[S]^2`, not the variance: passing the variance is a
/// common slip, so values below `E[S]^2` (impossible for a second moment) are rejected.
///
/// Returns `None` if `rho >= 1`, any input is negative or not finite, or
/// `second_moment_s < mean_s^2`.
///
/// Reference: Kleinrock (1975), §5.6, eq. (5.72); Harchol-Balter (2013), §23.2.
pub fn mg1_mean_wait(lambda: f64, mean_s: f64, second_moment_s: f64) -> Option<f64> {
    if !is_nonnegative_finite(lambda)
        || !is_nonnegative_finite(mean_s)
        || !is_nonnegative_finite(second_moment_s)
    {
        return None;
    }
    // A few ulps of slack so that a caller's own `d * d` for deterministic service is accepted.
    if second_moment_s < mean_s * mean_s * (1.0 - 4.0 * f64::EPSILON) {
        return None;
    }
    let rho = lambda * mean_s;
    if rho >= 1.0 {
        return None;
    }
    Some(lambda * second_moment_s / (2.0 * (1.0 - rho)))
}

/// Mean waiting time in queue of an M/D/1 queue with constant service time `d`:
/// `W_q = rho d / (2 (1 - rho))`, `rho = lambda d` (P-K with `E[S^2] = d^2`; half the M/M/1 wait).
///
/// Returns `None` if `rho >= 1` or an input is negative or not finite.
///
/// Reference: Kleinrock (1975), §5.6.
pub fn md1_mean_wait(lambda: f64, d: f64) -> Option<f64> {
    mg1_mean_wait(lambda, d, d * d)
}

// ---------------------------------------------------------------------------------------------
// GI/M/1
// ---------------------------------------------------------------------------------------------

/// The root `sigma` in `(0, 1)` of `sigma = A*(mu (1 - sigma))` for a GI/M/1 queue, where `A*` is
/// the Laplace–Stieltjes transform of the interarrival time, `A*(s) = E[exp(-s A)]`, and `mu` the
/// exponential service rate.
///
/// `sigma` is the probability that an arrival finds the server busy; the number an arrival finds
/// is geometric, `P(n) = (1 - sigma) sigma^n`, and under FIFO the sojourn time is
/// `Exp(mu (1 - sigma))`.
///
/// Method: `h(s) = A*(mu (1 - s)) - s` is convex on `[0, 1]` with `h(0) > 0` and `h(1) = 0`, and has
/// a second root in `(0, 1)` exactly when `rho = 1 / (mu E[A]) < 1` (then `h < 0` between the two
/// roots). A golden-section search for the minimum of `h` finds a point where `h < 0`, which
/// brackets the root against 0, and bisection then refines it to about machine precision. Unlike
/// plain fixed-point iteration this does not slow down arbitrarily as `rho -> 1` and needs no
/// knowledge of `E[A]`.
///
/// Returns `None` if `mu` is not positive and finite, `A*(mu)` is not in `(0, 1)` (not a proper
/// interarrival LST), or no root below 1 exists, i.e. the queue is unstable (`rho >= 1`). For
/// `1 - rho` below about `1e-7` the dip of `h` under zero is smaller than rounding error and the
/// queue may be reported as unstable.
///
/// Reference: Kleinrock (1975), §6.4, eq. (6.21)–(6.22).
pub fn gim1_sigma(lst: impl Fn(f64) -> f64, mu: f64) -> Option<f64> {
    if !is_positive_finite(mu) {
        return None;
    }
    let h = |s: f64| lst(mu * (1.0 - s)) - s;
    let h0 = lst(mu);
    if !(h0 > 0.0 && h0 < 1.0) {
        return None;
    }

    let inv_phi = (5.0_f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (0.0_f64, 1.0_f64);
    let mut c = b - inv_phi * (b - a);
    let mut d = a + inv_phi * (b - a);
    let (mut hc, mut hd) = (h(c), h(d));
    // Near s = 1, h is a difference of two numbers close to 1 and its rounding noise can dip
    // below zero even when rho >= 1 (h then touches zero only at s = 1); only a dip clearly deeper
    // than that noise proves the stable root exists.
    let clearly_negative = -16.0 * f64::EPSILON;
    let mut negative_at = None;
    for _ in 0..200 {
        if hc < clearly_negative {
            negative_at = Some(c);
            break;
        }
        if hd < clearly_negative {
            negative_at = Some(d);
            break;
        }
        if b - a < 1e-15 {
            break;
        }
        if hc < hd {
            b = d;
            d = c;
            hd = hc;
            c = b - inv_phi * (b - a);
            hc = h(c);
        } else {
            a = c;
            c = d;
            hc = hd;
            d = a + inv_phi * (b - a);
            hd = h(d);
        }
    }
    let mut hi = negative_at?;
    let mut lo = 0.0_f64;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if h(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

/// Mean sojourn time of a FIFO GI/M/1 queue: `T = 1 / (mu (1 - sigma))`, with `sigma` from
/// [`gim1_sigma`] (same arguments, same `None` cases).
///
/// Reference: Kleinrock (1975), §6.4, eq. (6.29).
pub fn gim1_mean_sojourn(lst: impl Fn(f64) -> f64, mu: f64) -> Option<f64> {
    gim1_sigma(lst, mu).map(|sigma| 1.0 / (mu * (1.0 - sigma)))
}

/// Mean sojourn time at one exponential server (rate `mu`) that receives every `n`-th arrival of a
/// Poisson stream of rate `lambda_total`, i.e. one of `n` servers fed round-robin.
///
/// Its interarrival times are Erlang(`n`, `lambda_total`), with LST `(lambda_total / (lambda_total + s))^n`,
/// so it is an E_n/M/1 queue: `T = 1 / (mu (1 - sigma))` with `sigma` from [`gim1_sigma`].
/// Per-server load is `rho = lambda_total / (n mu)`; for `n = 1` this is M/M/1.
///
/// Returns `None` if `n == 0`, `rho >= 1`, `lambda_total < 0`, `mu <= 0`, or an input is not
/// finite (or `rho` is within about `1e-7` of 1, see [`gim1_sigma`]). `lambda_total = 0` gives `1 / mu`.
///
/// Reference: Kleinrock (1975), §6.4 (E_r/M/1 example).
pub fn en_m1_mean_sojourn(n: u32, lambda_total: f64, mu: f64) -> Option<f64> {
    if n == 0 || !is_nonnegative_finite(lambda_total) || !is_positive_finite(mu) {
        return None;
    }
    if lambda_total == 0.0 {
        return Some(1.0 / mu);
    }
    let nf = f64::from(n);
    if lambda_total >= nf * mu {
        return None;
    }
    // (l / (l + s))^n written as exp(-n ln(1 + s/l)) so that large n neither overflows powi's
    // exponent nor loses the digits of a base close to 1.
    let lst = |s: f64| (-nf * (s / lambda_total).ln_1p()).exp();
    gim1_mean_sojourn(lst, mu)
}

// ---------------------------------------------------------------------------------------------
// Power-of-d choices (supermarket model)
// ---------------------------------------------------------------------------------------------

/// Mean sojourn time in the mean-field (N -> infinity) supermarket model: each Poisson arrival
/// (rate `rho N`) samples `d` of `N` exponential servers (rate 1) and joins the shortest queue.
///
/// `T_d(rho) = sum_{i >= 1} rho^{(d^i - d) / (d - 1)}` for `d >= 2`, and the M/M/1 value
/// `1 / (1 - rho)` for `d = 1`. Time is in units of the mean service time (`mu = 1`). The series
/// is summed until a term is below `1e-18` of the sum; since each term is at most the square of
/// the previous one, the neglected tail is then far below rounding error.
///
/// Returns `f64::INFINITY` for `rho >= 1` (the mean sojourn diverges).
///
/// # Panics
/// If `d == 0`, or `rho` is negative or not finite.
///
/// Reference: M. Mitzenmacher, "The power of two choices in randomized load balancing", IEEE
/// Trans. Parallel Distrib. Syst. 12(10), 2001, Theorem 3.6; N. D. Vvedenskaya, R. L. Dobrushin,
/// F. I. Karpelevich, Probl. Inf. Transm. 32(1), 1996.
pub fn supermarket_mean_sojourn(rho: f64, d: u32) -> f64 {
    assert!(
        is_nonnegative_finite(rho),
        "supermarket_mean_sojourn: rho must be finite and >= 0, got {rho}"
    );
    assert!(d >= 1, "supermarket_mean_sojourn: d must be >= 1");
    if rho >= 1.0 {
        return f64::INFINITY;
    }
    if d == 1 {
        return 1.0 / (1.0 - rho);
    }
    if rho == 0.0 {
        return 1.0;
    }
    let df = f64::from(d);
    let ln_rho = rho.ln();
    // exponent_i = (d^i - d) / (d - 1) = d + d^2 + ... + d^{i-1}, built by exponent <- d * exponent + d
    // so that d^i is never formed (it overflows long before the terms stop mattering for rho ~ 1).
    let mut exponent = 0.0_f64;
    let mut sum = 0.0;
    loop {
        let term = (exponent * ln_rho).exp();
        sum += term;
        if term <= 1e-18 * sum {
            return sum;
        }
        exponent = df * exponent + df;
    }
}

// ---------------------------------------------------------------------------------------------
// Caches
// ---------------------------------------------------------------------------------------------

/// Sum of the popularities, after checking that they are usable weights.
fn popularity_total(popularities: &[f64]) -> f64 {
    assert!(
        popularities.iter().all(|&p| is_nonnegative_finite(p)),
        "cache popularities must be finite and >= 0"
    );
    let total: f64 = popularities.iter().sum();
    assert!(
        total > 0.0 && total.is_finite(),
        "cache popularities must have a positive finite sum"
    );
    total
}

/// Che's characteristic time `T_C` of an LRU cache of `capacity` items under the independent
/// reference model: the root of `sum_i (1 - exp(-p_i T_C)) = C`, with `p_i` the normalised
/// popularities (request probabilities; equivalently rates with total 1, so `T_C` is counted in
/// requests).
///
/// Returns 0 for `capacity == 0` and `f64::INFINITY` when `capacity` is at least the number of
/// items with non-zero popularity (everything that is ever requested fits). Otherwise the root is
/// bracketed by doubling from `C` (the left side is at most `T_C`, so `T_C >= C`) and found by
/// bisection to machine precision.
///
/// # Panics
/// If a popularity is negative or not finite, or they do not have a positive finite sum.
///
/// Reference: H. Che, Y. Tung, Z. Wang, "Hierarchical Web caching systems: modeling, design and
/// experimental results", IEEE JSAC 20(7), 2002.
pub fn che_characteristic_time(popularities: &[f64], capacity: usize) -> f64 {
    let total = popularity_total(popularities);
    let requested = popularities.iter().filter(|&&p| p > 0.0).count();
    if capacity == 0 {
        return 0.0;
    }
    if capacity >= requested {
        return f64::INFINITY;
    }
    let c = capacity as f64;
    let occupancy = |t: f64| -> f64 {
        popularities
            .iter()
            .filter(|&&p| p > 0.0)
            .map(|&p| -(-(p / total) * t).exp_m1())
            .sum()
    };
    let mut lo = c;
    let mut hi = 2.0 * c;
    // Only popularities near the smallest positive double could push hi to overflow; stopping
    // there gives a finite (if coarse) answer instead of an infinite loop.
    while occupancy(hi) < c && hi < f64::MAX / 4.0 {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if occupancy(mid) < c {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Che's approximation of the hit ratio of an LRU cache holding `capacity` items under the
/// independent reference model with the given popularities (normalised here, so any positive
/// weights will do): `sum_i p_i (1 - exp(-p_i T_C))`, with `T_C` from [`che_characteristic_time`].
///
/// Returns exactly 1 when everything requested fits and 0 for `capacity == 0`. The approximation
/// is asymptotically exact for large catalogues and very accurate in practice (Fricker, Robert,
/// Roberts, ITC 24, 2012).
///
/// # Panics
/// As [`che_characteristic_time`].
///
/// Reference: Che, Tung, Wang, IEEE JSAC 20(7), 2002.
pub fn che_lru_hit_ratio(popularities: &[f64], capacity: usize) -> f64 {
    let t = che_characteristic_time(popularities, capacity);
    if t == f64::INFINITY {
        return 1.0;
    }
    if t == 0.0 {
        return 0.0;
    }
    let total = popularity_total(popularities);
    popularities
        .iter()
        .filter(|&&p| p > 0.0)
        .map(|&p| {
            let q = p / total;
            q * -(-q * t).exp_m1()
        })
        .sum()
}

/// Zipf popularities `p_i = i^{-s} / sum_{j=1}^{n} j^{-s}`, `i = 1..=n` (most popular first).
///
/// The normalising sum is accumulated from the smallest term up, so its rounding error does not
/// grow with `n`. `n = 0` gives an empty vector; `s = 0` is uniform.
///
/// # Panics
/// If `s` is not finite.
///
/// Reference: G. K. Zipf, *Human Behavior and the Principle of Least Effort* (1949); L. Breslau et
/// al., "Web caching and Zipf-like distributions", INFOCOM 1999.
pub fn zipf_popularities(n: usize, s: f64) -> Vec<f64> {
    assert!(
        s.is_finite(),
        "zipf_popularities: s must be finite, got {s}"
    );
    let weights: Vec<f64> = (1..=n).map(|i| (i as f64).powf(-s)).collect();
    let total: f64 = weights.iter().rev().sum();
    weights.into_iter().map(|w| w / total).collect()
}

/// Hit ratio of one key in a TTL cache where a miss inserts the key with a timer of `ttl` that hits
/// do not refresh, under Poisson requests of rate `lambda`: `lambda T / (1 + lambda T)`.
///
/// Renewal argument: a cycle is one miss, then `ttl` of residence during which on average
/// `lambda T` requests hit, then an exponential wait for the next (missing) request; so a cycle
/// holds `lambda T` hits out of `1 + lambda T` requests. `ttl = +inf` gives 1 (for `lambda > 0`).
///
/// # Panics
/// If `lambda` is negative or not finite, or `ttl` is negative or NaN.
///
/// Reference: J. Jung, A. W. Berger, H. Balakrishnan, "Modeling TTL-based Internet caches",
/// INFOCOM 2003.
pub fn ttl_single_key_hit_ratio(lambda: f64, ttl: f64) -> f64 {
    assert!(
        is_nonnegative_finite(lambda),
        "ttl_single_key_hit_ratio: lambda must be finite and >= 0, got {lambda}"
    );
    assert!(
        ttl >= 0.0,
        "ttl_single_key_hit_ratio: ttl must be >= 0, got {ttl}"
    );
    if lambda == 0.0 {
        return 0.0;
    }
    let x = lambda * ttl;
    if x.is_infinite() {
        return 1.0;
    }
    x / (1.0 + x)
}

// ---------------------------------------------------------------------------------------------
// Order statistics
// ---------------------------------------------------------------------------------------------

/// Harmonic number `H_n = sum_{k=1}^{n} 1/k` (`H_0 = 0`).
///
/// Summed directly (smallest terms first) for `n <= 256`; above that the asymptotic expansion
/// `ln n + gamma + 1/(2n) - 1/(12 n^2) + 1/(120 n^4) - 1/(252 n^6)` is used, whose truncation error
/// `< 1/(240 n^8)` is far below rounding there, and which avoids billions of additions for large `n`.
///
/// Reference: D. E. Knuth, *The Art of Computer Programming*, Vol. 1, §1.2.7, eq. (3).
pub fn harmonic(n: u32) -> f64 {
    if n <= 256 {
        return (1..=n).rev().map(|k| 1.0 / f64::from(k)).sum();
    }
    let x = f64::from(n);
    let inv2 = 1.0 / (x * x);
    x.ln() + EULER_GAMMA + 0.5 / x - inv2 * (1.0 / 12.0 - inv2 * (1.0 / 120.0 - inv2 / 252.0))
}

/// Expected maximum of `n` independent exponential random variables with the given `mean`:
/// `mean * H_n` (0 for `n = 0`).
///
/// Why: the gaps between successive order statistics are independent exponentials with means
/// `mean / n, mean / (n - 1), ..., mean / 1` (Rényi's representation). This is, e.g., the mean
/// latency of a fan-out that waits for `n` parallel exponential replies.
///
/// Reference: A. Rényi, "On the theory of order statistics", Acta Math. Hung. 4, 1953; H. A. David,
/// H. N. Nagaraja, *Order Statistics* (3rd ed., 2003), §2.5.
pub fn expected_max_of_exponentials(n: u32, mean: f64) -> f64 {
    mean * harmonic(n)
}

// ---------------------------------------------------------------------------------------------
// Closed networks: exact Mean Value Analysis
// ---------------------------------------------------------------------------------------------

/// Kind of service centre in a closed product-form network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Servers {
    /// `m >= 1` identical exponential servers sharing one FCFS queue (`m = 1` may also be
    /// processor sharing with any service distribution: the results are the same).
    Queueing(u32),
    /// Infinite servers (a pure delay: think time, fixed network latency); any service distribution.
    Delay,
}

/// One service centre of a closed network for [`mva_closed`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MvaStation {
    /// Service demand `D_k = V_k S_k`: visits per cycle of a user times mean service time per visit.
    pub demand: f64,
    /// Number of servers.
    pub servers: Servers,
}

impl MvaStation {
    /// A single-server queueing station with demand `demand`.
    pub fn queueing(demand: f64) -> Self {
        Self {
            demand,
            servers: Servers::Queueing(1),
        }
    }

    /// An `m`-server queueing station with demand `demand`.
    pub fn multi_server(demand: f64, m: u32) -> Self {
        Self {
            demand,
            servers: Servers::Queueing(m),
        }
    }

    /// A delay (infinite-server) station with demand `demand`.
    pub fn delay(demand: f64) -> Self {
        Self {
            demand,
            servers: Servers::Delay,
        }
    }
}

/// Exact mean performance of a closed network at one population, from [`mva_closed`].
///
/// Per-station vectors are in the order of the `stations` argument.
#[derive(Debug, Clone, PartialEq)]
pub struct MvaResult {
    /// Number of users `N`.
    pub population: u32,
    /// System throughput `X(N)`: cycles (user interactions) completed per unit time.
    pub throughput: f64,
    /// Response time `R(N) = sum_k R_k(N) = N / X(N) - Z`, excluding the think time.
    pub response_time: f64,
    /// Residence time `R_k(N)` per cycle at each station (all visits together, waiting plus service).
    pub residence_times: Vec<f64>,
    /// Mean number of users `Q_k(N)` at each station (waiting plus in service).
    pub queue_lengths: Vec<f64>,
    /// `X D_k / m_k` for a queueing station (mean fraction of its servers busy); for a delay
    /// station, `X D_k`, the mean number in service (not bounded by 1).
    pub utilizations: Vec<f64>,
}

fn log_add_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

fn log_sum_exp(terms: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = terms.clone().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + terms.map(|t| (t - max).exp()).sum::<f64>().ln()
}

/// `ln f(j)`, `j = 0..=j_max`, for an `m`-server station of demand `demand`:
/// `f(j) = demand^j / prod_{i=1}^{j} min(i, m)` (its product-form factor).
fn log_station_weights(demand: f64, m: usize, j_max: usize) -> Vec<f64> {
    let ln_d = demand.ln();
    let mut out = Vec::with_capacity(j_max + 1);
    let mut acc = 0.0;
    out.push(acc);
    for j in 1..=j_max {
        acc += ln_d - (j.min(m) as f64).ln();
        out.push(acc);
    }
    out
}

/// Convolves log normalising constants `lg_old` with an `m`-server station of demand `demand`.
///
/// Beyond `j = m` the station factor is geometric with ratio `demand / m`, so that part of the
/// convolution is a first-order recurrence and the whole costs O(n m) rather than O(n^2).
fn convolve_queueing(lg_old: &[f64], demand: f64, m: usize) -> Vec<f64> {
    let n_max = lg_old.len() - 1;
    let lf = log_station_weights(demand, m, m.min(n_max));
    let ln_ratio = (demand / m as f64).ln();
    let mut tail = f64::NEG_INFINITY;
    (0..=n_max)
        .map(|n| {
            if n >= m {
                tail = log_add_exp(lf[m] + lg_old[n - m], ln_ratio + tail);
            }
            let head = log_sum_exp((0..=n.min(m - 1)).map(|j| lf[j] + lg_old[n - j]));
            log_add_exp(head, tail)
        })
        .collect()
}

/// `ln G(n)`, `n = 0..=n_max`: Buzen's normalising constants of the network (think time plus all
/// stations except `skip`). All delays merge into one (their product-form factors convolve to a
/// single Poisson-like factor with the summed demand).
fn log_normalizing_constants(
    think_z: f64,
    stations: &[MvaStation],
    skip: Option<usize>,
    n_max: usize,
) -> Vec<f64> {
    let total_delay = think_z
        + stations
            .iter()
            .enumerate()
            .filter(|&(k, s)| Some(k) != skip && s.servers == Servers::Delay)
            .map(|(_, s)| s.demand)
            .sum::<f64>();
    let ln_delay = total_delay.ln();
    let mut acc = 0.0;
    let mut lg: Vec<f64> = std::iter::once(0.0)
        .chain((1..=n_max).map(|j| {
            acc += ln_delay - (j as f64).ln();
            acc
        }))
        .collect();
    for (k, s) in stations.iter().enumerate() {
        if Some(k) == skip {
            continue;
        }
        if let Servers::Queueing(m) = s.servers {
            lg = convolve_queueing(&lg, s.demand, m as usize);
        }
    }
    lg
}

/// What a multi-server station needs to obtain its marginal probabilities stably.
struct MultiServerMarginals {
    /// `ln f_k(j)`, `j = 0..=min(m-2, N-1)`.
    log_weights: Vec<f64>,
    /// `ln G_{-k}(n)`, `n = 0..=N-1`: the network without this station.
    log_g_without: Vec<f64>,
}

fn validate_network(think_z: f64, stations: &[MvaStation]) {
    assert!(
        is_nonnegative_finite(think_z),
        "MVA: think time must be finite and >= 0, got {think_z}"
    );
    for (k, s) in stations.iter().enumerate() {
        assert!(
            is_nonnegative_finite(s.demand),
            "MVA: station {k} demand must be finite and >= 0, got {}",
            s.demand
        );
        assert!(
            s.servers != Servers::Queueing(0),
            "MVA: station {k} has Queueing(0); a queueing station needs at least one server"
        );
    }
}

/// Runs exact MVA for populations `1..=n`, handing each result to `visit`.
fn mva_run(think_z: f64, stations: &[MvaStation], n: u32, mut visit: impl FnMut(MvaResult)) {
    validate_network(think_z, stations);
    if n == 0 {
        return;
    }
    let cycle_demand = think_z + stations.iter().map(|s| s.demand).sum::<f64>();
    assert!(
        cycle_demand > 0.0,
        "MVA: think time and all demands are zero, so throughput would be infinite"
    );
    // Marginals at populations 0..=n-1 feed the residence times at 1..=n (arrival theorem).
    let n_max = (n - 1) as usize;
    let marginals: Vec<Option<MultiServerMarginals>> = stations
        .iter()
        .enumerate()
        .map(|(k, s)| match s.servers {
            Servers::Queueing(m) if m >= 2 => Some(MultiServerMarginals {
                log_weights: log_station_weights(s.demand, m as usize, (m as usize - 2).min(n_max)),
                log_g_without: log_normalizing_constants(think_z, stations, Some(k), n_max),
            }),
            _ => None,
        })
        .collect();
    let log_g = if marginals.iter().any(Option::is_some) {
        log_normalizing_constants(think_z, stations, None, n_max)
    } else {
        Vec::new()
    };

    let mut queue_prev = vec![0.0; stations.len()];
    for pop in 1..=n {
        let prev = (pop - 1) as usize;
        let residence_times: Vec<f64> = stations
            .iter()
            .zip(&marginals)
            .zip(&queue_prev)
            .map(|((s, marg), &q)| match (s.servers, marg) {
                (Servers::Delay, _) => s.demand,
                (Servers::Queueing(m), Some(marg)) => {
                    let m = m as usize;
                    // sum_{j<=m-2} (m-1-j) p(j | pop-1): the idle servers an arrival finds, which
                    // make the m-server station faster than one server m times as fast.
                    let idle: f64 = (0..=(m - 2).min(prev))
                        .map(|j| {
                            let log_p =
                                marg.log_weights[j] + marg.log_g_without[prev - j] - log_g[prev];
                            (m - 1 - j) as f64 * log_p.exp()
                        })
                        .sum();
                    s.demand / m as f64 * (1.0 + q + idle)
                }
                (Servers::Queueing(_), None) => s.demand * (1.0 + q),
            })
            .collect();
        let response_time: f64 = residence_times.iter().sum();
        let throughput = f64::from(pop) / (think_z + response_time);
        let queue_lengths: Vec<f64> = residence_times.iter().map(|r| throughput * r).collect();
        let utilizations = stations
            .iter()
            .map(|s| match s.servers {
                Servers::Queueing(m) => throughput * s.demand / f64::from(m),
                Servers::Delay => throughput * s.demand,
            })
            .collect();
        queue_prev.clone_from(&queue_lengths);
        visit(MvaResult {
            population: pop,
            throughput,
            response_time,
            residence_times,
            queue_lengths,
            utilizations,
        });
    }
}

/// Exact Mean Value Analysis of a closed single-class product-form network: `n` users cycle
/// between thinking (a delay of mean `think_z`) and visiting `stations`.
///
/// Recursion over the population (Reiser–Lavenberg), starting from `Q_k(0) = 0`:
/// - delay station: `R_k(n) = D_k`;
/// - single server: `R_k(n) = D_k (1 + Q_k(n-1))` (arrival theorem);
/// - `m` servers: `R_k(n) = (D_k / m) (1 + Q_k(n-1) + sum_{j=0}^{m-2} (m-1-j) p_k(j | n-1))`;
/// - then `X(n) = n / (Z + sum_k R_k(n))` and `Q_k(n) = X(n) R_k(n)` (Little).
///
/// This is exact for any `m` (no Seidmann-style approximation). The marginal probabilities
/// `p_k(j | n)` of multi-server stations are not taken from the usual MVA recursion, whose step
/// `p_k(0 | n) = 1 - sum_{j>=1} ...` cancels catastrophically near saturation and can go
/// negative; instead `p_k(j | n) = f_k(j) G_{-k}(n-j) / G(n)` from normalising constants
/// (Buzen's convolution, kept in log space), a formula with only positive terms.
///
/// Cost: O(n K) for single-server and delay stations, plus O(n m M K) for `M` multi-server
/// stations with at most `m` servers. For `n = 0` the result is all zeros.
///
/// Assumptions: BCMP product form (closed network; FCFS stations with exponential service, or PS
/// single-server stations with any service distribution; infinite-server delays), one class, and
/// demands that already include the visit ratios.
///
/// # Panics
/// If `think_z` or a demand is negative or not finite, a station is `Queueing(0)`, or `n >= 1` and
/// `think_z` and all demands are zero.
///
/// References: M. Reiser, S. S. Lavenberg, "Mean-value analysis of closed multichain queuing
/// networks", J. ACM 27(2), 1980; Lazowska et al. (1984), ch. 6 and §20.2 (load-dependent
/// stations); J. P. Buzen, "Computational algorithms for closed queueing networks with exponential
/// servers", CACM 16(9), 1973.
pub fn mva_closed(think_z: f64, stations: &[MvaStation], n: u32) -> MvaResult {
    let mut last = MvaResult {
        population: 0,
        throughput: 0.0,
        response_time: 0.0,
        residence_times: vec![0.0; stations.len()],
        queue_lengths: vec![0.0; stations.len()],
        utilizations: vec![0.0; stations.len()],
    };
    mva_run(think_z, stations, n, |r| last = r);
    if n == 0 {
        validate_network(think_z, stations);
    }
    last
}

/// [`mva_closed`] for every population `1..=n` (element `i` is population `i + 1`), computed in one
/// pass, e.g. to plot throughput and response time against the number of users.
///
/// # Panics
/// As [`mva_closed`].
pub fn mva_closed_curve(think_z: f64, stations: &[MvaStation], n: u32) -> Vec<MvaResult> {
    let mut out = Vec::with_capacity(n as usize);
    mva_run(think_z, stations, n, |r| out.push(r));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// `|actual - expected| <= tol * max(1, |expected|)`.
    fn assert_close(actual: f64, expected: f64, tol: f64, what: &str) {
        let scale = expected.abs().max(1.0);
        assert!(
            (actual - expected).abs() <= tol * scale,
            "{what}: got {actual:.17e}, expected {expected:.17e} (tol {tol:e})"
        );
    }

    // ----- M/M/1

    #[test]
    fn mm1_textbook_values() {
        assert_close(mm1_mean_sojourn(0.5, 1.0).unwrap(), 2.0, 1e-15, "T");
        assert_close(mm1_mean_wait(0.5, 1.0).unwrap(), 1.0, 1e-15, "Wq");
        assert_close(mm1_mean_queue_len(0.5, 1.0).unwrap(), 0.5, 1e-15, "Lq");
        // rho = 0.9, mu = 10: T = 1, Wq = 0.9, Lq = 8.1.
        assert_close(mm1_mean_sojourn(9.0, 10.0).unwrap(), 1.0, 1e-14, "T");
        assert_close(mm1_mean_wait(9.0, 10.0).unwrap(), 0.9, 1e-14, "Wq");
        assert_close(mm1_mean_queue_len(9.0, 10.0).unwrap(), 8.1, 1e-13, "Lq");
        assert_close(mm1_mean_sojourn(0.0, 4.0).unwrap(), 0.25, 1e-15, "idle");
        // Little: Lq = lambda Wq.
        let (l, m) = (3.7, 5.2);
        assert_close(
            mm1_mean_queue_len(l, m).unwrap(),
            l * mm1_mean_wait(l, m).unwrap(),
            1e-14,
            "Little",
        );
    }

    #[test]
    fn mm1_rejects_unstable_and_invalid() {
        assert_eq!(mm1_mean_sojourn(1.0, 1.0), None);
        assert_eq!(mm1_mean_sojourn(2.0, 1.0), None);
        assert_eq!(mm1_mean_wait(1.0, 0.0), None);
        assert_eq!(mm1_mean_queue_len(-0.1, 1.0), None);
        assert_eq!(mm1_mean_sojourn(f64::NAN, 1.0), None);
        assert_eq!(mm1_mean_sojourn(0.5, f64::INFINITY), None);
    }

    #[test]
    fn mm1_quantiles_are_exponential() {
        let (l, m) = (0.5, 1.0);
        assert_close(
            mm1_sojourn_quantile(l, m, 0.5).unwrap(),
            std::f64::consts::LN_2 / 0.5,
            1e-15,
            "median",
        );
        assert_close(
            mm1_sojourn_quantile(l, m, 0.99).unwrap(),
            100.0_f64.ln() / 0.5,
            1e-13,
            "p99",
        );
        assert_eq!(mm1_sojourn_quantile(l, m, 0.0), Some(0.0));
        for q in [1e-12, 0.1, 0.9, 0.999_999] {
            let t = mm1_sojourn_quantile(l, m, q).unwrap();
            assert_close(1.0 - (-(m - l) * t).exp(), q, 1e-12, "cdf(quantile)");
        }
        assert_eq!(mm1_sojourn_quantile(l, m, 1.0), None);
        assert_eq!(mm1_sojourn_quantile(l, m, -0.1), None);
        assert_eq!(mm1_sojourn_quantile(l, m, f64::NAN), None);
        assert_eq!(mm1_sojourn_quantile(1.0, 1.0, 0.5), None);
    }

    // ----- Erlang B / C, M/M/c

    fn erlang_b_direct(c: u32, a: f64) -> f64 {
        // sum a^k/k! in log space so that large c does not overflow
        let log_terms: Vec<f64> = (0..=c)
            .scan(0.0, |acc, k| {
                if k > 0 {
                    *acc += a.ln() - f64::from(k).ln();
                }
                Some(*acc)
            })
            .collect();
        let last = *log_terms.last().unwrap();
        (last - log_sum_exp(log_terms.iter().copied())).exp()
    }

    #[test]
    fn erlang_b_known_values() {
        assert_close(erlang_b(10, 5.0), 0.018_384_57, 1e-9, "B(10,5) table");
        assert_close(
            erlang_b(10, 5.0),
            erlang_b_direct(10, 5.0),
            1e-13,
            "B(10,5)",
        );
        for a in [0.1, 1.0, 3.5, 40.0] {
            assert_close(erlang_b(1, a), a / (1.0 + a), 1e-15, "B(1,a)");
        }
        // B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2
        assert_close(erlang_b(2, 1.0), 0.2, 1e-15, "B(2,1)");
        assert_eq!(erlang_b(0, 3.0), 1.0);
        assert_eq!(erlang_b(5, 0.0), 0.0);
        for (c, a) in [(1000, 1000.0), (1000, 950.0), (5000, 4000.0), (50, 80.0)] {
            let b = erlang_b(c, a);
            assert!(b > 0.0 && b < 1.0);
            assert_close(b, erlang_b_direct(c, a), 1e-10, "large-c B");
        }
    }

    #[test]
    fn erlang_c_known_values() {
        assert_close(erlang_c(2, 1.0).unwrap(), 1.0 / 3.0, 1e-15, "C(2,1)");
        assert_close(erlang_c(1, 0.7).unwrap(), 0.7, 1e-15, "C(1,a) = rho");
        // Direct formula for C(5, 3).
        let (c, a) = (5u32, 3.0_f64);
        let mut term = 1.0;
        let mut below = 0.0;
        for k in 0..c {
            below += term;
            term *= a / f64::from(k + 1);
        }
        let top = term * f64::from(c) / (f64::from(c) - a);
        assert_close(
            erlang_c(c, a).unwrap(),
            top / (below + top),
            1e-14,
            "C(5,3)",
        );
        assert_eq!(erlang_c(2, 2.0), None);
        assert_eq!(erlang_c(2, 2.5), None);
        assert_eq!(erlang_c(0, 0.5), None);
        assert_eq!(erlang_c(3, -1.0), None);
        assert_eq!(erlang_c(3, 0.0), Some(0.0));
    }

    #[test]
    fn mmc_matches_mm1_and_mm2_closed_forms() {
        let (l, m) = (0.7, 1.3);
        assert_close(
            mmc_mean_wait(l, m, 1).unwrap(),
            mm1_mean_wait(l, m).unwrap(),
            1e-14,
            "M/M/1 wait",
        );
        assert_close(
            mmc_mean_sojourn(l, m, 1).unwrap(),
            mm1_mean_sojourn(l, m).unwrap(),
            1e-14,
            "M/M/1 sojourn",
        );
        // M/M/2: Lq = 2 rho^3 / (1 - rho^2), rho = lambda / (2 mu).
        let (l, m) = (1.5, 1.0);
        let rho: f64 = l / (2.0 * m);
        let wq = 2.0 * rho.powi(3) / (1.0 - rho * rho) / l;
        assert_close(mmc_mean_wait(l, m, 2).unwrap(), wq, 1e-14, "M/M/2 wait");
        assert_close(
            mmc_mean_sojourn(l, m, 2).unwrap(),
            wq + 1.0 / m,
            1e-14,
            "M/M/2 sojourn",
        );
        assert_close(
            mmc_mean_wait(1.0, 1.0, 2).unwrap(),
            1.0 / 3.0,
            1e-15,
            "a=1,c=2",
        );
        assert_eq!(mmc_mean_wait(2.0, 1.0, 2), None);
        assert_eq!(mmc_mean_sojourn(3.0, 1.0, 2), None);
        assert_eq!(mmc_mean_wait(1.0, 1.0, 0), None);
    }

    // ----- M/M/1/K

    /// (P_K, L, T) from the stationary distribution pi_j ∝ rho^j, j = 0..=k.
    fn mm1k_direct(lambda: f64, mu: f64, k: u32) -> (f64, f64, f64) {
        let rho = lambda / mu;
        let weights: Vec<f64> = (0..=k)
            .scan(1.0, |w, j| {
                if j > 0 {
                    *w *= rho;
                }
                Some(*w)
            })
            .collect();
        let total: f64 = weights.iter().sum();
        let p_full = weights[k as usize] / total;
        let mean: f64 = weights
            .iter()
            .enumerate()
            .map(|(j, w)| j as f64 * w)
            .sum::<f64>()
            / total;
        (p_full, mean, mean / (lambda * (1.0 - p_full)))
    }

    #[test]
    fn mm1k_matches_stationary_distribution() {
        let mu = 2.0;
        let rhos = [
            0.3,
            0.9,
            0.999_999,
            1.0 - 1e-12,
            1.0,
            1.0 + 1e-12,
            1.000_001,
            1.01,
            1.5,
            2.5,
        ];
        for rho in rhos {
            let lambda = rho * mu;
            for k in [1u32, 2, 5, 50] {
                let (p, l, t) = mm1k_direct(lambda, mu, k);
                let what = format!("rho={rho}, K={k}");
                assert_close(mm1k_blocking(lambda, mu, k), p, 1e-12, &what);
                assert_close(mm1k_mean_in_system(lambda, mu, k), l, 1e-12, &what);
                assert_close(mm1k_mean_sojourn(lambda, mu, k), t, 1e-12, &what);
            }
        }
    }

    #[test]
    fn mm1k_edge_cases() {
        for k in [1u32, 7, 1000] {
            let kf = f64::from(k);
            assert_close(
                mm1k_blocking(3.0, 3.0, k),
                1.0 / (kf + 1.0),
                1e-15,
                "rho=1 P_K",
            );
            assert_close(mm1k_mean_in_system(3.0, 3.0, k), kf / 2.0, 1e-15, "rho=1 L");
        }
        assert_eq!(mm1k_blocking(0.5, 1.0, 0), 1.0);
        assert_eq!(mm1k_blocking(0.0, 1.0, 0), 1.0);
        assert_eq!(mm1k_mean_in_system(0.5, 1.0, 0), 0.0);
        assert_eq!(mm1k_blocking(0.0, 1.0, 3), 0.0);
        assert_eq!(mm1k_mean_in_system(0.0, 1.0, 3), 0.0);
        assert_eq!(mm1k_mean_sojourn(0.0, 4.0, 3), 0.25);
        // K = 1: blocking = rho / (1 + rho), L = rho / (1 + rho), T = 1 / mu.
        assert_close(mm1k_blocking(1.0, 3.0, 1), 0.25, 1e-15, "K=1 P");
        assert_close(mm1k_mean_in_system(1.0, 3.0, 1), 0.25, 1e-15, "K=1 L");
        assert_close(mm1k_mean_sojourn(1.0, 3.0, 1), 1.0 / 3.0, 1e-15, "K=1 T");
        // Huge K: M/M/1 limit below saturation, full-buffer behaviour above.
        let k = 1_000_000_000;
        assert!(mm1k_blocking(0.5, 1.0, k) < 1e-300);
        assert_close(mm1k_mean_in_system(0.5, 1.0, k), 1.0, 1e-12, "K->inf L");
        assert_close(mm1k_mean_sojourn(0.5, 1.0, k), 2.0, 1e-12, "K->inf T");
        assert_close(
            mm1k_blocking(2.0, 1.0, k),
            0.5,
            1e-12,
            "rho=2 P_K -> 1 - 1/rho",
        );
        assert_close(
            mm1k_mean_in_system(2.0, 1.0, k),
            f64::from(k) - 1.0,
            1e-12,
            "rho=2 L",
        );
        // Enormous overload: blocking -> 1, nothing overflows.
        let p = mm1k_blocking(1e200, 1e-100, 10);
        assert!((p - 1.0).abs() < 1e-12);
        assert_close(
            mm1k_mean_in_system(1e200, 1e-100, 10),
            10.0,
            1e-12,
            "overload L",
        );
    }

    #[test]
    #[should_panic]
    fn mm1k_sojourn_rejects_zero_capacity() {
        mm1k_mean_sojourn(1.0, 2.0, 0);
    }

    // ----- M/G/1

    #[test]
    fn mg1_pollaczek_khinchine() {
        let (l, mu) = (0.6, 1.0);
        // Exponential service: E[S^2] = 2 / mu^2 reproduces M/M/1.
        assert_close(
            mg1_mean_wait(l, 1.0 / mu, 2.0 / (mu * mu)).unwrap(),
            mm1_mean_wait(l, mu).unwrap(),
            1e-15,
            "M/M/1",
        );
        // Deterministic service waits half as long as exponential.
        assert_close(
            md1_mean_wait(l, 1.0 / mu).unwrap(),
            0.5 * mm1_mean_wait(l, mu).unwrap(),
            1e-15,
            "M/D/1",
        );
        assert_close(md1_mean_wait(0.5, 1.0).unwrap(), 0.5, 1e-15, "M/D/1 rho=.5");
        // Erlang-2 service of mean 1: E[S^2] = 1.5; Wq = 0.5 * 1.5 / (2 * 0.5) = 0.75.
        assert_close(mg1_mean_wait(0.5, 1.0, 1.5).unwrap(), 0.75, 1e-15, "M/E2/1");
        assert_eq!(mg1_mean_wait(1.0, 1.0, 2.0), None);
        assert_eq!(
            mg1_mean_wait(0.5, 1.0, 0.5),
            None,
            "variance passed as moment"
        );
        assert_eq!(mg1_mean_wait(-0.5, 1.0, 2.0), None);
        assert_eq!(md1_mean_wait(2.0, 0.5), None);
        assert_eq!(mg1_mean_wait(0.0, 1.0, 2.0), Some(0.0));
    }

    // ----- GI/M/1

    #[test]
    fn gim1_with_poisson_arrivals_is_mm1() {
        let mu = 1.0;
        for rho in [0.01, 0.1, 0.5, 0.9, 0.99, 0.999] {
            let lambda = rho * mu;
            let sigma = gim1_sigma(|s| lambda / (lambda + s), mu).unwrap();
            assert_close(sigma, rho, 1e-12, &format!("sigma at rho={rho}"));
        }
        // Close to saturation the root is still found, to the precision its flat slope allows.
        let near = 1.0 - 1e-6;
        assert_close(
            gim1_sigma(|s| near / (near + s), 1.0).unwrap(),
            near,
            1e-9,
            "rho~1",
        );
        assert_close(
            gim1_mean_sojourn(|s| 0.5 / (0.5 + s), 1.0).unwrap(),
            2.0,
            1e-12,
            "M/M/1 T",
        );
        assert_eq!(gim1_sigma(|s| 1.0 / (1.0 + s), 1.0), None, "rho = 1");
        assert_eq!(gim1_sigma(|s| 2.0 / (2.0 + s), 1.0), None, "rho = 2");
        assert_eq!(gim1_sigma(|s| 0.5 / (0.5 + s), 0.0), None);
        assert_eq!(gim1_sigma(|_| f64::NAN, 1.0), None);
    }

    #[test]
    fn gim1_deterministic_arrivals() {
        // D/M/1 with interarrival 1 and mu = 2 (rho = 0.5): sigma = exp(-2 (1 - sigma)).
        let mu = 2.0;
        let sigma = gim1_sigma(|s| (-s).exp(), mu).unwrap();
        assert_close(sigma, (-mu * (1.0 - sigma)).exp(), 1e-14, "fixed point");
        assert!(
            sigma > 0.0 && sigma < 0.5,
            "regular arrivals wait less than Poisson"
        );
        // Known value of the D/M/1 root at rho = 0.5: 0.203188.
        assert_close(sigma, 0.203_188, 1e-6, "D/M/1 sigma");
    }

    #[test]
    fn en_m1_round_robin() {
        let mu = 1.0;
        // n = 1: M/M/1.
        for l in [0.2, 0.5, 0.95] {
            assert_close(
                en_m1_mean_sojourn(1, l, mu).unwrap(),
                mm1_mean_sojourn(l, mu).unwrap(),
                1e-10,
                "n=1",
            );
        }
        // n = 2: sigma solves mu^2 s^2 - mu (mu + 2 l) s + l^2 = 0 (the cubic divided by s - 1).
        for l in [0.4, 1.0, 1.5, 1.9] {
            let sigma = ((mu + 2.0 * l) - (mu * mu + 4.0 * l * mu).sqrt()) / (2.0 * mu);
            assert_close(
                en_m1_mean_sojourn(2, l, mu).unwrap(),
                1.0 / (mu * (1.0 - sigma)),
                1e-10,
                &format!("E2/M/1 at lambda_total={l}"),
            );
        }
        // More servers at the same per-server load: more regular arrivals, shorter sojourn.
        let rho = 0.8;
        let mut previous = f64::INFINITY;
        for n in [1u32, 2, 4, 16, 64] {
            let t = en_m1_mean_sojourn(n, rho * f64::from(n) * mu, mu).unwrap();
            assert!(t < previous && t > 1.0 / mu, "n={n}: {t}");
            previous = t;
        }
        assert_eq!(en_m1_mean_sojourn(3, 0.0, 2.0), Some(0.5));
        assert_eq!(en_m1_mean_sojourn(2, 2.0, 1.0), None);
        assert_eq!(en_m1_mean_sojourn(2, 3.0, 1.0), None);
        assert_eq!(en_m1_mean_sojourn(0, 0.5, 1.0), None);
    }

    // ----- Supermarket model

    #[test]
    fn supermarket_values() {
        for rho in [0.0, 0.3, 0.9, 0.99] {
            assert_close(
                supermarket_mean_sojourn(rho, 1),
                1.0 / (1.0 - rho),
                1e-15,
                "d=1",
            );
            let (t1, t2, t3) = (
                supermarket_mean_sojourn(rho, 1),
                supermarket_mean_sojourn(rho, 2),
                supermarket_mean_sojourn(rho, 3),
            );
            assert!(t3 <= t2 && t2 <= t1, "rho={rho}: {t1} {t2} {t3}");
            if rho > 0.0 {
                assert!(t3 < t2 && t2 < t1);
            }
        }
        assert_eq!(supermarket_mean_sojourn(0.0, 2), 1.0);
        // Exponents (2^i - 2): 0, 2, 6, 14, 30, 62, 126, ...
        let explicit = |rho: f64, exps: &[i32]| exps.iter().map(|&e| rho.powi(e)).sum::<f64>();
        let d2 = [0, 2, 6, 14, 30, 62, 126, 254, 510, 1022];
        assert_close(
            supermarket_mean_sojourn(0.5, 2),
            explicit(0.5, &d2),
            1e-15,
            "d=2 .5",
        );
        assert_close(
            supermarket_mean_sojourn(0.9, 2),
            explicit(0.9, &d2),
            1e-15,
            "d=2 .9",
        );
        // Exponents (3^i - 3)/2: 0, 3, 12, 39, 120, 363.
        let d3 = [0, 3, 12, 39, 120, 363, 1092];
        assert_close(
            supermarket_mean_sojourn(0.9, 3),
            explicit(0.9, &d3),
            1e-15,
            "d=3 .9",
        );
        assert!(supermarket_mean_sojourn(1.0, 2).is_infinite());
        // Near saturation d = 2 grows like log(1 / (1 - rho)), not 1 / (1 - rho).
        let t = supermarket_mean_sojourn(1.0 - 1e-9, 2);
        assert!(t.is_finite() && t > 20.0 && t < 40.0, "{t}");
    }

    // ----- Caches

    #[test]
    fn zipf_popularities_are_normalized() {
        let p = zipf_popularities(1000, 0.8);
        assert_eq!(p.len(), 1000);
        assert_close(p.iter().sum::<f64>(), 1.0, 1e-14, "sum");
        assert_close(p[0] / p[1], 2.0_f64.powf(0.8), 1e-14, "ratio");
        assert!(p.windows(2).all(|w| w[0] > w[1]));
        let u = zipf_popularities(4, 0.0);
        assert!(u.iter().all(|&x| (x - 0.25).abs() < 1e-16));
        assert!(zipf_popularities(0, 1.0).is_empty());
    }

    #[test]
    fn che_limits_and_uniform_case() {
        let zipf = zipf_popularities(1000, 0.8);
        assert_eq!(che_lru_hit_ratio(&zipf, 1000), 1.0);
        assert_eq!(che_lru_hit_ratio(&zipf, 5000), 1.0);
        assert_eq!(che_lru_hit_ratio(&zipf, 0), 0.0);
        let tiny = che_lru_hit_ratio(&zipf, 1);
        assert!(tiny > 0.0 && tiny < 0.05, "{tiny}");
        let almost_all = che_lru_hit_ratio(&zipf, 999);
        assert!(almost_all > 0.999 && almost_all < 1.0, "{almost_all}");
        // Uniform popularity: n (1 - e^{-T/n}) = C makes the hit ratio exactly C / n.
        let uniform = vec![5.0; 200]; // unnormalised on purpose
        for c in [1usize, 10, 100, 199] {
            assert_close(
                che_lru_hit_ratio(&uniform, c),
                c as f64 / 200.0,
                1e-12,
                &format!("uniform C={c}"),
            );
            // Skew helps: Zipf beats uniform at the same relative size.
            let z = zipf_popularities(200, 0.8);
            assert!(che_lru_hit_ratio(&z, c) > c as f64 / 200.0);
        }
        // Items never requested neither count towards the catalogue nor break the root finding.
        let with_zeros = [0.5, 0.0, 0.3, 0.2, 0.0];
        assert_eq!(che_lru_hit_ratio(&with_zeros, 3), 1.0);
        let h = che_lru_hit_ratio(&with_zeros, 2);
        assert_close(h, che_lru_hit_ratio(&[0.5, 0.3, 0.2], 2), 1e-15, "zeros");
    }

    #[test]
    fn che_characteristic_time_solves_its_equation() {
        let p = zipf_popularities(5000, 1.1);
        let mut previous = 0.0;
        for c in [1usize, 10, 100, 1000, 4999] {
            let t = che_characteristic_time(&p, c);
            let occupancy: f64 = p.iter().map(|&q| 1.0 - (-q * t).exp()).sum();
            assert_close(occupancy, c as f64, 1e-9, &format!("C={c}"));
            let h = che_lru_hit_ratio(&p, c);
            assert!(h > previous, "hit ratio must grow with capacity");
            previous = h;
        }
        assert_eq!(che_characteristic_time(&p, 0), 0.0);
        assert_eq!(che_characteristic_time(&p, 5000), f64::INFINITY);
    }

    #[test]
    fn ttl_hit_ratio() {
        assert_close(
            ttl_single_key_hit_ratio(2.0, 0.5),
            0.5,
            1e-15,
            "lambda T = 1",
        );
        assert_close(
            ttl_single_key_hit_ratio(10.0, 0.9),
            0.9,
            1e-15,
            "lambda T = 9",
        );
        assert_eq!(ttl_single_key_hit_ratio(2.0, 0.0), 0.0);
        assert_eq!(ttl_single_key_hit_ratio(0.0, 10.0), 0.0);
        assert_eq!(ttl_single_key_hit_ratio(0.0, f64::INFINITY), 0.0);
        assert_eq!(ttl_single_key_hit_ratio(1.0, f64::INFINITY), 1.0);
    }

    // ----- Order statistics

    #[test]
    fn harmonic_numbers() {
        assert_eq!(harmonic(0), 0.0);
        assert_eq!(harmonic(1), 1.0);
        assert_eq!(harmonic(2), 1.5);
        assert_close(harmonic(4), 25.0 / 12.0, 1e-15, "H4");
        assert_close(harmonic(10), 7381.0 / 2520.0, 1e-15, "H10");
        for n in [256u32, 257, 1000, 100_000, 1_000_000] {
            let direct: f64 = (1..=n).rev().map(|k| 1.0 / f64::from(k)).sum();
            assert_close(harmonic(n), direct, 1e-14, &format!("H_{n}"));
        }
        let big = harmonic(u32::MAX);
        assert_close(big, f64::from(u32::MAX).ln() + EULER_GAMMA, 1e-9, "H_max");
        assert_close(expected_max_of_exponentials(2, 1.0), 1.5, 1e-15, "max of 2");
        assert_close(
            expected_max_of_exponentials(3, 2.0),
            2.0 * 11.0 / 6.0,
            1e-15,
            "max of 3",
        );
        assert_eq!(expected_max_of_exponentials(0, 5.0), 0.0);
    }

    // ----- MVA against brute-force Markov chains

    #[derive(Clone, Copy)]
    enum Node {
        Delay(f64),
        Queue(f64, u32),
    }

    impl Node {
        fn of(s: &MvaStation) -> Self {
            match s.servers {
                Servers::Delay => Node::Delay(s.demand),
                Servers::Queueing(m) => Node::Queue(s.demand, m),
            }
        }
        fn busy(self, n: u32) -> f64 {
            match self {
                Node::Delay(_) => f64::from(n),
                Node::Queue(_, m) => f64::from(n.min(m)),
            }
        }
        fn rate(self, n: u32) -> f64 {
            match self {
                Node::Delay(s) | Node::Queue(s, _) => self.busy(n) / s,
            }
        }
    }

    /// Exact stationary means of a cyclic closed network (visit ratio 1 everywhere).
    struct Exact {
        throughput: f64,
        mean_counts: Vec<f64>,
        mean_busy: Vec<f64>,
    }

    /// Two nodes: a birth-death chain on j = users at node `a`, solved in log space.
    fn birth_death(a: Node, b: Node, n: u32) -> Exact {
        let log_w: Vec<f64> = (0..=n)
            .scan(0.0, |acc, j| {
                if j > 0 {
                    *acc += b.rate(n - j + 1).ln() - a.rate(j).ln();
                }
                Some(*acc)
            })
            .collect();
        let log_total = log_sum_exp(log_w.iter().copied());
        let pi: Vec<f64> = log_w.iter().map(|w| (w - log_total).exp()).collect();
        let expect =
            |f: &dyn Fn(u32) -> f64| -> f64 { pi.iter().zip(0..=n).map(|(p, j)| p * f(j)).sum() };
        Exact {
            throughput: expect(&|j| a.rate(j)),
            mean_counts: vec![expect(&|j| f64::from(j)), expect(&|j| f64::from(n - j))],
            mean_busy: vec![expect(&|j| a.busy(j)), expect(&|j| b.busy(n - j))],
        }
    }

    fn compositions(n: u32, parts: usize) -> Vec<Vec<u32>> {
        if parts == 1 {
            return vec![vec![n]];
        }
        (0..=n)
            .flat_map(|first| {
                compositions(n - first, parts - 1)
                    .into_iter()
                    .map(move |rest| std::iter::once(first).chain(rest).collect())
            })
            .collect()
    }

    fn gauss_solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
        let size = b.len();
        for col in 0..size {
            let pivot = (col..size)
                .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
                .unwrap();
            a.swap(col, pivot);
            b.swap(col, pivot);
            let (done, rest) = a.split_at_mut(col + 1);
            let pivot_row = &done[col];
            let (b_done, b_rest) = b.split_at_mut(col + 1);
            for (row, rhs) in rest.iter_mut().zip(b_rest.iter_mut()) {
                let factor = row[col] / pivot_row[col];
                for (x, y) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= factor * y;
                }
                *rhs -= factor * b_done[col];
            }
        }
        let mut x = vec![0.0; size];
        for row in (0..size).rev() {
            let known: f64 = a[row][row + 1..]
                .iter()
                .zip(&x[row + 1..])
                .map(|(c, v)| c * v)
                .sum();
            x[row] = (b[row] - known) / a[row][row];
        }
        x
    }

    /// Any number of nodes in a cycle: full CTMC over all placements of the n users.
    fn cyclic_ctmc(nodes: &[Node], n: u32) -> Exact {
        let states = compositions(n, nodes.len());
        let index: HashMap<&[u32], usize> = states
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_slice(), i))
            .collect();
        let size = states.len();
        // Transposed generator, so that pi Q = 0 becomes A pi = 0.
        let mut a = vec![vec![0.0; size]; size];
        for (from, s) in states.iter().enumerate() {
            for (k, node) in nodes.iter().enumerate() {
                if s[k] == 0 {
                    continue;
                }
                let rate = node.rate(s[k]);
                let mut t = s.clone();
                t[k] -= 1;
                t[(k + 1) % nodes.len()] += 1;
                a[index[t.as_slice()]][from] += rate;
                a[from][from] -= rate;
            }
        }
        // One balance equation is redundant; normalisation takes its place.
        a[0].iter_mut().for_each(|x| *x = 1.0);
        let mut b = vec![0.0; size];
        b[0] = 1.0;
        let pi = gauss_solve(a, b);
        let expect = |f: &dyn Fn(&[u32]) -> f64| -> f64 {
            pi.iter().zip(&states).map(|(p, s)| p * f(s)).sum()
        };
        Exact {
            throughput: expect(&|s| nodes[0].rate(s[0])),
            mean_counts: (0..nodes.len())
                .map(|k| expect(&|s| f64::from(s[k])))
                .collect(),
            mean_busy: nodes
                .iter()
                .enumerate()
                .map(|(k, node)| expect(&|s| node.busy(s[k])))
                .collect(),
        }
    }

    /// Compares MVA to an exact solution whose nodes are `[think (if z > 0)] ++ stations`.
    fn check_mva(z: f64, stations: &[MvaStation], n: u32, exact: &Exact, tol: f64) {
        let r = mva_closed(z, stations, n);
        let offset = usize::from(z > 0.0);
        let what = |s: &str| format!("N={n}, z={z}: {s}");
        assert_eq!(r.population, n);
        assert_close(r.throughput, exact.throughput, tol, &what("X"));
        let thinking = if offset == 1 {
            exact.mean_counts[0]
        } else {
            0.0
        };
        assert_close(
            r.response_time,
            (f64::from(n) - thinking) / exact.throughput,
            tol,
            &what("R"),
        );
        for (k, s) in stations.iter().enumerate() {
            let (q, busy) = (exact.mean_counts[k + offset], exact.mean_busy[k + offset]);
            assert_close(r.queue_lengths[k], q, tol, &what(&format!("Q_{k}")));
            assert_close(
                r.residence_times[k],
                q / exact.throughput,
                tol,
                &what(&format!("R_{k}")),
            );
            let servers = match s.servers {
                Servers::Queueing(m) => f64::from(m),
                Servers::Delay => 1.0,
            };
            assert_close(
                r.utilizations[k],
                busy / servers,
                tol,
                &what(&format!("U_{k}")),
            );
        }
    }

    #[test]
    fn mva_single_station_without_think_time_is_saturated() {
        let st = [MvaStation::queueing(0.25)];
        for n in 1..=6u32 {
            let r = mva_closed(0.0, &st, n);
            assert_close(r.throughput, 4.0, 1e-14, "X");
            assert_close(r.response_time, 0.25 * f64::from(n), 1e-14, "R");
            assert_close(r.queue_lengths[0], f64::from(n), 1e-14, "Q");
            assert_close(r.utilizations[0], 1.0, 1e-14, "U");
        }
    }

    #[test]
    fn mva_two_stations_match_birth_death() {
        let configs: Vec<(f64, Vec<MvaStation>)> = vec![
            (2.0, vec![MvaStation::queueing(0.5)]),
            (
                0.0,
                vec![MvaStation::queueing(0.5), MvaStation::queueing(0.8)],
            ),
            (3.0, vec![MvaStation::multi_server(1.5, 3)]),
            (
                0.0,
                vec![MvaStation::multi_server(1.2, 2), MvaStation::queueing(0.4)],
            ),
            (
                0.0,
                vec![MvaStation::multi_server(2.0, 4), MvaStation::delay(1.0)],
            ),
        ];
        for (z, stations) in &configs {
            let nodes: Vec<Node> = if *z > 0.0 {
                vec![Node::Delay(*z), Node::of(&stations[0])]
            } else {
                stations.iter().map(Node::of).collect()
            };
            for n in 1..=5 {
                let exact = birth_death(nodes[0], nodes[1], n);
                check_mva(*z, stations, n, &exact, 1e-12);
            }
        }
    }

    #[test]
    fn mva_mixed_network_matches_full_ctmc() {
        let z = 1.0;
        let stations = [
            MvaStation::multi_server(0.7, 2),
            MvaStation::queueing(0.4),
            MvaStation::delay(0.3),
            MvaStation::multi_server(0.9, 3),
        ];
        let nodes: Vec<Node> = std::iter::once(Node::Delay(z))
            .chain(stations.iter().map(Node::of))
            .collect();
        for n in 1..=5 {
            check_mva(z, &stations, n, &cyclic_ctmc(&nodes, n), 1e-10);
        }
        let no_think = [
            MvaStation::multi_server(1.2, 3),
            MvaStation::multi_server(0.5, 2),
            MvaStation::queueing(0.3),
        ];
        let nodes: Vec<Node> = no_think.iter().map(Node::of).collect();
        for n in 1..=5 {
            check_mva(0.0, &no_think, n, &cyclic_ctmc(&nodes, n), 1e-10);
        }
    }

    #[test]
    fn mva_multi_server_is_stable_near_and_past_saturation() {
        // Think 10, 8 servers of demand 2: capacity 4 per unit time, knee at N ~ 48. This is where
        // the classical p(0|n) = 1 - sum recursion loses all its digits.
        let z = 10.0;
        let stations = [MvaStation::multi_server(2.0, 8)];
        let nodes = [Node::Delay(z), Node::of(&stations[0])];
        for n in [1u32, 10, 40, 48, 60, 200, 500] {
            check_mva(z, &stations, n, &birth_death(nodes[0], nodes[1], n), 1e-10);
        }
        let big = [
            MvaStation::multi_server(1.0, 4),
            MvaStation::queueing(0.2),
            MvaStation::delay(0.5),
        ];
        let r = mva_closed(5.0, &big, 3000);
        assert_close(r.throughput, 4.0, 1e-12, "bottleneck throughput");
        assert_close(r.utilizations[0], 1.0, 1e-12, "bottleneck utilisation");
        assert_close(
            r.queue_lengths[1],
            4.0,
            1e-9,
            "M/M/1-like station Q at U=0.8",
        );
        let users = r.queue_lengths.iter().sum::<f64>() + r.throughput * 5.0;
        assert_close(users, 3000.0, 1e-12, "users conserved");
        let curve = mva_closed_curve(5.0, &big, 3000);
        assert!(
            curve
                .windows(2)
                .all(|w| w[1].throughput >= w[0].throughput * (1.0 - 1e-12))
        );
        assert!(
            curve
                .iter()
                .all(|r| r.queue_lengths.iter().all(|&q| q >= 0.0)
                    && r.utilizations[0] <= 1.0 + 1e-12)
        );
    }

    #[test]
    fn mva_many_servers_behave_as_delay() {
        let as_queue = [MvaStation::multi_server(1.3, 10), MvaStation::queueing(0.4)];
        let as_delay = [MvaStation::delay(1.3), MvaStation::queueing(0.4)];
        for n in 1..=10 {
            let (q, d) = (mva_closed(2.0, &as_queue, n), mva_closed(2.0, &as_delay, n));
            assert_close(q.throughput, d.throughput, 1e-12, "X");
            assert_close(q.response_time, d.response_time, 1e-12, "R");
            for k in 0..2 {
                assert_close(q.queue_lengths[k], d.queue_lengths[k], 1e-12, "Q");
            }
        }
        let r = mva_closed(1.0, &[MvaStation::multi_server(0.5, u32::MAX)], 20);
        assert_close(r.throughput, 20.0 / 1.5, 1e-12, "u32::MAX servers");
    }

    #[test]
    fn mva_curve_agrees_with_single_points() {
        let stations = [
            MvaStation::queueing(0.3),
            MvaStation::multi_server(0.8, 2),
            MvaStation::delay(0.1),
            MvaStation::queueing(0.0),
        ];
        let curve = mva_closed_curve(1.5, &stations, 12);
        assert_eq!(curve.len(), 12);
        for (i, r) in curve.iter().enumerate() {
            let single = mva_closed(1.5, &stations, i as u32 + 1);
            assert_eq!(*r, single);
            assert_eq!(r.queue_lengths[3], 0.0, "zero-demand station holds nobody");
        }
        assert!(mva_closed_curve(1.5, &stations, 0).is_empty());
        let empty = mva_closed(1.5, &stations, 0);
        assert_eq!(empty.population, 0);
        assert_eq!(empty.throughput, 0.0);
        assert_eq!(empty.queue_lengths, vec![0.0; 4]);
        // Without think time and any station a pure delay network: X = N / sum D.
        let r = mva_closed(0.0, &[MvaStation::delay(2.0), MvaStation::delay(3.0)], 7);
        assert_close(r.throughput, 7.0 / 5.0, 1e-15, "delay-only");
    }

    #[test]
    #[should_panic]
    fn mva_rejects_zero_servers() {
        mva_closed(1.0, &[MvaStation::multi_server(1.0, 0)], 3);
    }

    #[test]
    #[should_panic]
    fn mva_rejects_all_zero_demand() {
        mva_closed(0.0, &[MvaStation::queueing(0.0)], 3);
    }
}
