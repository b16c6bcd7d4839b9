//! One market of one match: every provider's latest book in, the published [`MarketView`] out.
//!
//! This is the hot path of inplay: every price packet of every provider lands here. The view is
//! refreshed in place (no new vectors, no id clones unless a slot's provider changes) and the
//! refresh says whether anything published changed, so a repeated packet costs a few
//! comparisons and no allocation. The formulas are documented in the parent module.

use super::{
    score::ratio,
    selection_cmp,
    settle::SettlementBook,
    view::{MarketView, ProviderPrice, SelectionView},
    weights::{preference, Weights},
};
use crate::{
    model::{MarketKey, MarketStatus, ProviderId, Selection, Settlement, Timestamp},
    odds::Price,
};

/// One provider's latest quote of one selection.
#[derive(Clone, Debug)]
struct Quote {
    selection: Selection,
    price: Price,
    /// `observed_at` of the packet that last changed this price or its book's status.
    changed_at: Timestamp,
}

/// One provider's latest book for the market.
#[derive(Clone, Debug)]
struct ProviderBook {
    provider: ProviderId,
    /// `observed_at` of the last applied packet: older ones are late.
    observed_at: Timestamp,
    status: MarketStatus,
    quotes: Vec<Quote>,
    /// Weight and priority, cached at the last refresh (weights may change between calls).
    weight: f64,
    priority: u8,
}

/// What a refresh changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Refresh {
    /// Something in the selections (prices, best, average, confidence) changed.
    pub odds: bool,
    /// The aggregated status before the refresh.
    pub before: MarketStatus,
    /// The aggregated status after the refresh.
    pub after: MarketStatus,
}

/// The state of one market: provider books, settlement reports, and the published view.
#[derive(Clone, Debug)]
pub(super) struct MarketBook {
    view: MarketView,
    books: Vec<ProviderBook>,
    settlements: SettlementBook,
}

// === impl MarketBook ===

impl MarketBook {
    /// An empty market (suspended, no selections) created at `now`.
    pub(super) fn new(key: MarketKey, now: Timestamp) -> Self {
        let view = MarketView {
            key,
            status: MarketStatus::Suspended,
            selections: Vec::new(),
            best_overround: None,
            provider_overround: Vec::new(),
            arbitrage: false,
            settlement: None,
            updated_at: now,
        };
        Self {
            view,
            books: Vec::new(),
            settlements: SettlementBook::default(),
        }
    }

    /// The published view.
    pub(super) fn view(&self) -> &MarketView {
        &self.view
    }

    /// Whether `provider` has at least one price in this market.
    pub(super) fn quoted_by(&self, provider: &ProviderId) -> bool {
        self.books
            .iter()
            .any(|b| b.provider == *provider && !b.quotes.is_empty())
    }

    /// Providers with at least one price in this market.
    pub(super) fn quoting(&self) -> impl Iterator<Item = &ProviderId> {
        self.books
            .iter()
            .filter(|b| !b.quotes.is_empty())
            .map(|b| &b.provider)
    }

    /// Replaces `provider`'s book with `prices` (last one wins for a repeated selection).
    /// Returns whether the book changed; late packets, repeats and packets for a settled
    /// market change nothing.
    pub(super) fn apply_prices(
        &mut self,
        provider: &ProviderId,
        prices: &[(Selection, Price)],
        status: MarketStatus,
        observed_at: Timestamp,
    ) -> bool {
        if self.view.status == MarketStatus::Settled {
            return false;
        }
        let existing = self.books.iter().position(|b| b.provider == *provider);
        let book = match existing {
            Some(i) => &mut self.books[i],
            None => {
                self.books.push(ProviderBook {
                    provider: provider.clone(),
                    observed_at,
                    status,
                    quotes: Vec::with_capacity(prices.len()),
                    weight: 0.0,
                    priority: u8::MAX,
                });
                let last = self.books.len() - 1;
                &mut self.books[last]
            }
        };
        if observed_at < book.observed_at {
            return false;
        }
        book.observed_at = observed_at;
        if existing.is_some() && book.status == status && book.same_prices(prices) {
            return false;
        }
        book.replace(prices, status, observed_at);
        true
    }

    /// Records `provider`'s settlement. Returns whether its report changed.
    pub(super) fn apply_settlement(
        &mut self,
        provider: &ProviderId,
        results: &[(Selection, Settlement)],
        observed_at: Timestamp,
    ) -> bool {
        self.settlements.apply(provider, observed_at, results)
    }

    /// Recomputes the settlement view; returns whether it changed.
    pub(super) fn refresh_settlement(&mut self, weights: &Weights, now: Timestamp) -> bool {
        let next = self.settlements.view(weights);
        if next == self.view.settlement {
            return false;
        }
        self.view.settlement = next;
        self.view.status = MarketStatus::Settled;
        self.view.updated_at = now;
        true
    }

    /// Recomputes the published prices and status in place. `quoting_weight` is the total
    /// weight of the providers quoting any market of the match.
    pub(super) fn refresh(
        &mut self,
        weights: &Weights,
        quoting_weight: f64,
        now: Timestamp,
    ) -> Refresh {
        let before = self.view.status;
        for b in &mut self.books {
            (b.weight, b.priority) = weights.rank(&b.provider);
        }
        self.books.sort_by(|a, b| {
            preference(
                (a.weight, a.priority, &a.provider),
                (b.weight, b.priority, &b.provider),
            )
        });
        let mut changed = self.sync_selections();
        for sv in &mut self.view.selections {
            changed |= refresh_selection(sv, &self.books, quoting_weight);
        }
        self.refresh_market_figures();
        let after = if self.view.settlement.is_some() {
            MarketStatus::Settled
        } else if self
            .books
            .iter()
            .any(|b| b.status == MarketStatus::Active && !b.quotes.is_empty())
        {
            MarketStatus::Active
        } else {
            MarketStatus::Suspended
        };
        self.view.status = after;
        if changed || before != after {
            self.view.updated_at = now;
        }
        Refresh {
            odds: changed,
            before,
            after,
        }
    }

    /// Makes the view's selections exactly those some provider quotes, in canonical order.
    /// Returns whether the set changed.
    fn sync_selections(&mut self) -> bool {
        let before = self.view.selections.len();
        let books = &self.books;
        let quoted = |s: &Selection| {
            books
                .iter()
                .any(|b| b.quotes.iter().any(|q| q.selection == *s))
        };
        self.view.selections.retain(|sv| quoted(&sv.selection));
        let mut changed = self.view.selections.len() != before;
        for q in books.iter().flat_map(|b| &b.quotes) {
            if !self
                .view
                .selections
                .iter()
                .any(|sv| sv.selection == q.selection)
            {
                self.view.selections.push(SelectionView {
                    selection: q.selection.clone(),
                    prices: Vec::new(),
                    best: None,
                    best_provider: None,
                    average: None,
                    confidence: 0.0,
                });
                changed = true;
            }
        }
        if changed {
            self.view
                .selections
                .sort_by(|a, b| selection_cmp(&a.selection, &b.selection));
        }
        changed
    }

    /// Overrounds and arbitrage, derived from the refreshed selections.
    fn refresh_market_figures(&mut self) {
        let sels = &self.view.selections;
        self.view.best_overround = if sels.len() >= 2 {
            sels.iter()
                .map(|s| s.best.map(|p| p.decimal().recip()))
                .sum::<Option<f64>>()
                .map(|s| s - 1.0)
        } else {
            None
        };
        self.view.arbitrage = self.view.best_overround.is_some_and(|o| o < 0.0);
        let mut n = 0;
        for b in &self.books {
            if sels.len() < 2 {
                break; // one selection has no meaningful margin
            }
            let Some(sum) = sels
                .iter()
                .map(|s| b.price_of(&s.selection).map(|p| p.decimal().recip()))
                .sum::<Option<f64>>()
            else {
                continue; // this provider does not quote every selection
            };
            let overround = sum - 1.0;
            match self.view.provider_overround.get_mut(n) {
                Some(slot) if slot.0 == b.provider => slot.1 = overround,
                Some(slot) => *slot = (b.provider.clone(), overround),
                None => self
                    .view
                    .provider_overround
                    .push((b.provider.clone(), overround)),
            }
            n += 1;
        }
        self.view.provider_overround.truncate(n);
    }
}

/// Refreshes one selection in place from the books (sorted by preference). Returns whether
/// anything in it changed.
fn refresh_selection(sv: &mut SelectionView, books: &[ProviderBook], quoting_weight: f64) -> bool {
    let mut changed = false;
    let mut n = 0;
    let (mut active_weight, mut sum, mut count, mut min) = (0.0, 0.0, 0u32, f64::INFINITY);
    let mut best: Option<(Price, &ProviderId)> = None;
    for b in books {
        let Some(q) = b.quotes.iter().find(|q| q.selection == sv.selection) else {
            continue;
        };
        match sv.prices.get_mut(n) {
            Some(slot) => {
                if slot.provider != b.provider {
                    slot.provider = b.provider.clone();
                    changed = true;
                }
                changed |= slot.price != q.price
                    || slot.status != b.status
                    || slot.updated_at != q.changed_at;
                (slot.price, slot.status, slot.updated_at) = (q.price, b.status, q.changed_at);
            }
            None => {
                sv.prices.push(ProviderPrice {
                    provider: b.provider.clone(),
                    price: q.price,
                    status: b.status,
                    updated_at: q.changed_at,
                });
                changed = true;
            }
        }
        n += 1;
        if b.status == MarketStatus::Active {
            let d = q.price.decimal();
            active_weight += b.weight;
            sum += d;
            count += 1;
            min = min.min(d);
            // Strictly better only: on a tie the earlier (preferred) provider keeps it.
            if best.is_none_or(|(p, _)| d > p.decimal()) {
                best = Some((q.price, &b.provider));
            }
        }
    }
    if sv.prices.len() != n {
        sv.prices.truncate(n);
        changed = true;
    }
    let average = (count > 0)
        .then(|| Price::from_decimal(sum / f64::from(count)).ok())
        .flatten();
    let confidence = match (best, average) {
        (Some((b, _)), Some(avg)) => {
            let spread = ((b.decimal() - min) / avg.decimal()).min(1.0);
            ratio(active_weight, quoting_weight) * (1.0 - spread)
        }
        _ => 0.0,
    };
    changed |= sv.best != best.map(|b| b.0) || sv.average != average || sv.confidence != confidence;
    changed |= sv.best_provider.as_ref() != best.map(|b| b.1);
    if sv.best_provider.as_ref() != best.map(|b| b.1) {
        sv.best_provider = best.map(|b| b.1.clone());
    }
    (sv.best, sv.average, sv.confidence) = (best.map(|b| b.0), average, confidence);
    changed
}

// === impl ProviderBook ===

impl ProviderBook {
    /// Whether `prices` (last one wins per selection) equals the current quotes.
    fn same_prices(&self, prices: &[(Selection, Price)]) -> bool {
        let last = |s: &Selection| prices.iter().rev().find(|(ps, _)| ps == s).map(|p| p.1);
        prices
            .iter()
            .all(|(s, _)| self.quotes.iter().any(|q| q.selection == *s))
            && self
                .quotes
                .iter()
                .all(|q| last(&q.selection) == Some(q.price))
    }

    /// Replaces the quotes in place, keeping each unchanged price's `changed_at`.
    fn replace(
        &mut self,
        prices: &[(Selection, Price)],
        status: MarketStatus,
        observed_at: Timestamp,
    ) {
        let status_changed = self.status != status;
        self.status = status;
        self.quotes
            .retain(|q| prices.iter().any(|(s, _)| *s == q.selection));
        for (sel, price) in prices {
            match self.quotes.iter_mut().find(|q| q.selection == *sel) {
                Some(q) => {
                    if q.price != *price || status_changed {
                        q.changed_at = observed_at;
                    }
                    q.price = *price;
                }
                None => self.quotes.push(Quote {
                    selection: sel.clone(),
                    price: *price,
                    changed_at: observed_at,
                }),
            }
        }
    }

    fn price_of(&self, selection: &Selection) -> Option<Price> {
        self.quotes
            .iter()
            .find(|q| q.selection == *selection)
            .map(|q| q.price)
    }
}
