//! Settlement consensus: each provider's result of a market in, one [`SettlementView`] out.
//!
//! Bets are graded from this, so disagreement is never hidden: the weighted majority is
//! published per selection, and every selection on which providers differ is listed as a
//! conflict for a human or a grading rule to look at.

use super::{
    score::ratio,
    selection_cmp,
    view::SettlementView,
    weights::{preference, Weights},
};
use crate::model::{ProviderId, Selection, Settlement, Timestamp};

/// One provider's latest result of the market.
#[derive(Clone, Debug)]
struct Report {
    provider: ProviderId,
    /// `observed_at` of the last applied result: older ones are late packets.
    observed_at: Timestamp,
    /// One result per selection, in canonical selection order.
    results: Vec<(Selection, Settlement)>,
}

/// Every provider's latest settlement report for one market.
#[derive(Clone, Debug, Default)]
pub(super) struct SettlementBook {
    reports: Vec<Report>,
}

// === impl SettlementBook ===

impl SettlementBook {
    /// Records one provider's results. Returns whether its report changed. Empty results carry
    /// no information and are ignored; a selection listed twice keeps its last result.
    pub(super) fn apply(
        &mut self,
        provider: &ProviderId,
        observed_at: Timestamp,
        results: &[(Selection, Settlement)],
    ) -> bool {
        if results.is_empty() {
            return false;
        }
        let mut normalised: Vec<(Selection, Settlement)> = Vec::with_capacity(results.len());
        for (sel, res) in results {
            match normalised.iter_mut().find(|(s, _)| s == sel) {
                Some(slot) => slot.1 = *res,
                None => normalised.push((sel.clone(), *res)),
            }
        }
        normalised.sort_by(|a, b| selection_cmp(&a.0, &b.0));
        match self.reports.iter_mut().find(|r| r.provider == *provider) {
            Some(r) if observed_at < r.observed_at => false,
            Some(r) => {
                r.observed_at = observed_at;
                let changed = r.results != normalised;
                r.results = normalised;
                changed
            }
            None => {
                let provider = provider.clone();
                self.reports.push(Report {
                    provider,
                    observed_at,
                    results: normalised,
                });
                true
            }
        }
    }

    /// The aggregated settlement, `None` until a provider reports one.
    pub(super) fn view(&self, weights: &Weights) -> Option<SettlementView> {
        if self.reports.is_empty() {
            return None;
        }
        let mut ranked: Vec<(f64, u8, &Report)> = self
            .reports
            .iter()
            .map(|r| {
                let (w, p) = weights.rank(&r.provider);
                (w, p, r)
            })
            .collect();
        ranked.sort_by(|a, b| preference((a.0, a.1, &a.2.provider), (b.0, b.1, &b.2.provider)));

        let mut selections: Vec<&Selection> = ranked
            .iter()
            .flat_map(|r| r.2.results.iter().map(|(s, _)| s))
            .collect();
        selections.sort_by(|a, b| selection_cmp(a, b));
        selections.dedup();

        let mut results = Vec::with_capacity(selections.len());
        let mut conflicts = Vec::new();
        let mut confidence = 1.0_f64;
        for sel in selections {
            // (result, weight) in order of first appearance among preferred providers, so a
            // weight tie goes to the most preferred provider's result.
            let mut tally: Vec<(Settlement, f64)> = Vec::with_capacity(2);
            for (w, _, r) in &ranked {
                let Some((_, res)) = r.results.iter().find(|(s, _)| s == sel) else {
                    continue;
                };
                match tally.iter_mut().find(|t| t.0 == *res) {
                    Some(t) => t.1 += w,
                    None => tally.push((*res, *w)),
                }
            }
            let total: f64 = tally.iter().map(|t| t.1).sum();
            let Some(&(winner, agreeing)) =
                tally
                    .iter()
                    .reduce(|best, t| if t.1 > best.1 { t } else { best })
            else {
                continue; // unreachable: every listed selection has at least one result
            };
            if tally.len() > 1 {
                conflicts.push(sel.clone());
            }
            confidence = confidence.min(ratio(agreeing, total));
            results.push((sel.clone(), winner));
        }
        Some(SettlementView {
            results,
            provider_results: ranked
                .iter()
                .map(|r| (r.2.provider.clone(), r.2.results.clone()))
                .collect(),
            confidence,
            conflicts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Selection::{Away, Draw, Home};
    use Settlement::{Lost, Push, Void, Won};

    fn weights() -> Weights {
        let mut w = Weights::new(1.0);
        w.set(ProviderId::new("a"), 0, 3.0);
        w.set(ProviderId::new("b"), 1, 1.0);
        w
    }

    fn settle(b: &mut SettlementBook, p: &str, t: i64, r: &[(Selection, Settlement)]) -> bool {
        b.apply(&ProviderId::new(p), Timestamp(t), r)
    }

    #[test]
    fn agreement_gives_full_confidence_and_canonical_order() {
        let mut b = SettlementBook::default();
        settle(&mut b, "a", 1, &[(Away, Lost), (Draw, Lost), (Home, Won)]);
        settle(&mut b, "b", 1, &[(Home, Won), (Away, Lost), (Draw, Lost)]);
        let v = b.view(&weights()).unwrap();
        assert_eq!(v.results, vec![(Home, Won), (Draw, Lost), (Away, Lost)]);
        assert_eq!((v.confidence, v.conflicts.len()), (1.0, 0));
        assert_eq!(v.provider_results.len(), 2);
    }

    #[test]
    fn push_and_void_are_results_like_any_other() {
        let mut b = SettlementBook::default();
        settle(&mut b, "a", 1, &[(Home, Push), (Away, Push)]);
        settle(&mut b, "b", 1, &[(Home, Push), (Away, Push)]);
        assert_eq!(
            b.view(&weights()).unwrap().results,
            vec![(Home, Push), (Away, Push)]
        );
        let mut v = SettlementBook::default();
        settle(&mut v, "a", 1, &[(Home, Void), (Away, Void)]);
        assert_eq!(
            v.view(&weights()).unwrap().results,
            vec![(Home, Void), (Away, Void)]
        );
    }

    #[test]
    fn conflict_is_listed_and_majority_published() {
        let mut b = SettlementBook::default();
        settle(&mut b, "a", 1, &[(Home, Won), (Away, Lost)]);
        settle(&mut b, "b", 1, &[(Home, Lost), (Away, Lost)]);
        let v = b.view(&weights()).unwrap();
        assert_eq!(v.results, vec![(Home, Won), (Away, Lost)]);
        assert_eq!(v.conflicts, vec![Home]);
        assert_eq!(v.confidence, 0.75);
    }

    #[test]
    fn repeats_late_and_empty_reports_change_nothing() {
        let mut b = SettlementBook::default();
        assert!(settle(&mut b, "a", 5, &[(Home, Won)]));
        assert!(!settle(&mut b, "a", 6, &[(Home, Won)]));
        assert!(!settle(&mut b, "a", 1, &[(Home, Lost)]));
        assert!(!settle(&mut b, "b", 7, &[]));
        assert!(settle(&mut b, "a", 7, &[(Home, Void)]));
        assert_eq!(b.view(&weights()).unwrap().results, vec![(Home, Void)]);
    }

    #[test]
    fn zero_weights_still_settle_without_dividing_by_zero() {
        let mut b = SettlementBook::default();
        b.apply(&ProviderId::new("z"), Timestamp(1), &[(Home, Won)]);
        let v = b.view(&Weights::new(0.0)).unwrap();
        assert_eq!((v.results, v.confidence), (vec![(Home, Won)], 0.0));
    }
}
