//! Tests of the price formats and book arithmetic, with proptests for the invariants the
//! aggregator relies on (best is a maximum, mean is between the extremes, nothing panics).

use proptest::prelude::*;

use super::*;

fn p(d: f64) -> Price {
    Price::from_decimal(d).expect("test prices are valid")
}

#[test]
fn american_converts_both_ways() {
    assert_eq!(Price::from_american(150.0).unwrap().decimal(), 2.5);
    assert!((Price::from_american(-110.0).unwrap().decimal() - 1.909_090_9).abs() < 1e-6);
    assert_eq!(Price::from_american(100.0).unwrap().decimal(), 2.0);
    assert_eq!(Price::from_american(-100.0).unwrap().decimal(), 2.0);
    assert_eq!(p(2.5).american(), 150.0);
    assert_eq!(p(1.909).american(), -110.0);
    assert_eq!(p(2.0).american(), 100.0);
    for bad in [0.0, 99.9, -99.9, 50.0, f64::NAN, f64::INFINITY, 1e12] {
        assert!(Price::from_american(bad).is_err(), "{bad}");
    }
}

#[test]
fn fractional_parses_and_formats() {
    assert_eq!(Price::from_fractional("5/2").unwrap().decimal(), 3.5);
    assert_eq!(Price::from_fractional(" 1/1 ").unwrap().decimal(), 2.0);
    assert_eq!(Price::from_fractional("Evens").unwrap().decimal(), 2.0);
    assert_eq!(Price::from_fractional("1 / 2").unwrap().decimal(), 1.5);
    for bad in [
        "", "5", "5/", "/2", "a/b", "5/0", "-5/2", "inf/1", "NaN/1", "1e3/1", "5/2/1",
    ] {
        assert!(
            matches!(Price::from_fractional(bad), Err(OddsError::BadFraction(_))),
            "{bad:?}"
        );
    }
    assert!(matches!(
        Price::from_fractional("100000/1"),
        Err(OddsError::OutOfRange(_))
    ));
    assert_eq!(p(3.5).fractional(), "5/2");
    assert_eq!(p(2.0).fractional(), "1/1");
    assert_eq!(p(1.5).fractional(), "1/2");
    assert_eq!(p(1.909).fractional(), "10/11");
    assert_eq!(p(1.001).fractional(), "1/100");
    assert_eq!(p(Price::MAX_DECIMAL).fractional(), "9999/1");
}

#[test]
fn display_helpers() {
    assert_eq!(p(2.456).round2(), 2.46);
    assert_eq!(p(1.001).round2(), 1.01);
    assert_eq!(p(4.0).implied_probability(), 0.25);
    assert_eq!(p(2.5).to_format_string(OddsFormat::American), "+150");
    assert_eq!(p(1.909).to_format_string(OddsFormat::American), "-110");
    assert_eq!(p(2.5).to_format_string(OddsFormat::Decimal), "2.50");
    assert_eq!(p(2.5).to_format_string(OddsFormat::Fractional), "3/2");
}

#[test]
fn odds_format_spellings() {
    for f in [
        OddsFormat::Decimal,
        OddsFormat::American,
        OddsFormat::Fractional,
    ] {
        assert_eq!(OddsFormat::parse(f.as_str()), Some(f));
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            format!("\"{}\"", f.as_str())
        );
    }
    assert_eq!(OddsFormat::parse(" American "), Some(OddsFormat::American));
    assert_eq!(OddsFormat::parse("moneyline"), None);
    assert_eq!(OddsFormat::default(), OddsFormat::Decimal);
}

#[test]
fn book_arithmetic() {
    assert_eq!(implied_probability(4.0), Ok(0.25));
    assert_eq!(implied_probability(1.0), Ok(1.0));
    assert!(implied_probability(0.5).is_err());
    assert!(implied_probability(f64::NAN).is_err());
    let book = [p(1.909), p(1.909)];
    assert!((overround(&book).unwrap() - 0.047_668).abs() < 1e-5);
    assert_eq!(overround(&[]), None);
    assert!(!is_arbitrage(&book));
    assert!(is_arbitrage(&[p(2.1), p(2.1)]));
    assert!(!is_arbitrage(&[p(1.5)]), "one price is never an arbitrage");
    // -110 beats -120, +150 beats +140: best is a plain maximum of decimals.
    let us = [-120.0, 150.0, -110.0, 140.0].map(|a| Price::from_american(a).unwrap());
    assert_eq!(best_for_bettor(us).unwrap().american(), 150.0);
    assert_eq!(best_for_bettor([]), None);
    assert_eq!(mean(&[p(2.0), p(3.0)]), Some(p(2.5)));
    assert_eq!(mean(&[]), None);
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        Just(1.0),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        -1e6..1e6_f64,
    ]
}

fn price() -> impl Strategy<Value = Price> {
    (1.0001..Price::MAX_DECIMAL).prop_map(p)
}

proptest! {
    /// Positive prices up to +999,900: above it the decimal price passes `MAX_DECIMAL`
    /// (10,000), which `from_american` refuses (a random +999,943 once failed the suite).
    #[test]
    fn american_round_trip_within_one_unit(a in prop_oneof![100.0..999_900.0_f64, -1e6..-100.0_f64]) {
        let back = Price::from_american(a).unwrap().american();
        prop_assert!((back - a).abs() <= 1.0, "{a} -> {back}");
    }

    #[test]
    fn american_output_parses_back(pr in price()) {
        let back = Price::from_american(pr.american()).unwrap();
        prop_assert!((back.decimal() - pr.decimal()).abs() / pr.decimal() < 0.01);
    }

    #[test]
    fn fractional_output_parses_back(pr in price()) {
        let back = Price::from_fractional(&pr.fractional()).unwrap();
        // Within half of 1/100 of the profit, plus the 1/100 floor for tiny prices.
        prop_assert!((back.decimal() - pr.decimal()).abs() <= 0.01);
    }

    #[test]
    fn best_is_at_least_every_input(ps in prop::collection::vec(price(), 1..20)) {
        let best = best_for_bettor(ps.iter().copied()).unwrap();
        prop_assert!(ps.iter().all(|q| best.decimal() >= q.decimal()));
        prop_assert!(ps.contains(&best));
    }

    #[test]
    fn mean_is_between_min_and_max(ps in prop::collection::vec(price(), 1..20)) {
        let m = mean(&ps).unwrap().decimal();
        let lo = ps.iter().map(|q| q.decimal()).fold(f64::INFINITY, f64::min);
        let hi = ps.iter().map(|q| q.decimal()).fold(f64::NEG_INFINITY, f64::max);
        prop_assert!(lo <= m && m <= hi);
    }

    #[test]
    fn nothing_panics_on_any_f64(x in any_f64()) {
        let _ = implied_probability(x);
        let _ = Price::from_american(x);
        if let Ok(pr) = Price::from_decimal(x) {
            let _ = (pr.american(), pr.fractional(), pr.round2(), pr.implied_probability());
            for f in [OddsFormat::Decimal, OddsFormat::American, OddsFormat::Fractional] {
                let _ = pr.to_format_string(f);
            }
            prop_assert!(pr.round2() >= 1.01);
        }
    }

    #[test]
    fn nothing_panics_on_any_string(s in ".*", frac in "[0-9./ ]{0,12}") {
        let _ = Price::from_fractional(&s);
        let _ = Price::from_fractional(&frac);
        let _ = OddsFormat::parse(&s);
    }
}
