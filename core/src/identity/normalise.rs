//! Team-name normalisation: the first step of deciding that two providers mean the same team.
//!
//! Providers spell one club many ways ("Atlético Madrid", "Atletico Madrid", "Club Atlético de
//! Madrid"; "Brighton & Hove Albion", "Brighton and Hove Albion"). Normalisation removes only
//! what never tells two teams apart: case, accents, punctuation and a short list of club-form
//! affixes. Anything that might distinguish teams (`B`, `II`, `U21`, `Women`, `United`, `City`)
//! is kept; differences that remain are the alias table's job, not a guess here.

use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

/// Whole words dropped from team names: legal-form and club-type abbreviations that providers
/// add or omit at will ("Chelsea FC", "AS Roma", "SSC Napoli", "Utah HC"). Every entry is an
/// affix, never a word that alone names or tells apart a team; "real", "united", "city",
/// "sporting", "athletic", "inter" are deliberately absent.
const AFFIXES: &[&str] = &[
    "fc", "afc", "cfc", "cf", "sc", "ac", "as", "fk", "bk", "sk", "cd", "ssc", "sv", "ud", "sd",
    "rc", "rcd", "sl", "hc", "club", "the",
];

/// Normalises a team name for comparison: lower case, accents stripped (NFKD, combining marks
/// dropped), `&` → `and`, apostrophes and dots removed ("Nott'm" → "nottm", "L.A." → "la",
/// "St. Louis" → "st louis"), other punctuation → space, club affixes dropped as whole words,
/// `U 21`/`U-21` → `u21`, whitespace collapsed.
///
/// Never returns an empty string for a name that has letters or digits: a name made only of
/// affixes ("FC") keeps them.
pub fn normalise_team(name: &str) -> String {
    let folded = fold(name);
    let words: Vec<&str> = folded.split_whitespace().collect();
    let kept: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !AFFIXES.contains(w))
        .collect();
    let words = if kept.is_empty() { words } else { kept };
    join_words(&words)
}

/// Lower-cases, strips accents and maps punctuation, leaving space-separated words.
fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.nfkd().flat_map(char::to_lowercase) {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            // Joined rather than split: "Nott'm Forest", "Newell's", "L.A. Kings".
            '\'' | '\u{2019}' | '\u{2018}' | '`' | '.' => {}
            '&' => out.push_str(" and "),
            // Letters that NFKD does not decompose into a base letter plus a mark.
            'ø' => out.push('o'),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            'ß' => out.push_str("ss"),
            'ł' => out.push('l'),
            'đ' | 'ð' => out.push('d'),
            'þ' => out.push_str("th"),
            'ı' => out.push('i'),
            'ħ' => out.push('h'),
            c if c.is_alphanumeric() => out.push(c),
            _ => out.push(' '),
        }
    }
    out
}

/// Joins words with single spaces, gluing an age-group `u` to its number (`u 21` → `u21`) so
/// "U-21", "U 21" and "U21" agree.
fn join_words(words: &[&str]) -> String {
    let mut out = String::new();
    let mut prev_was_u = false;
    for w in words {
        let glue = prev_was_u && w.bytes().all(|b| b.is_ascii_digit());
        if !out.is_empty() && !glue {
            out.push(' ');
        }
        out.push_str(w);
        prev_was_u = *w == "u";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalise_team as n;

    #[test]
    fn case_accents_and_punctuation() {
        assert_eq!(n("Atlético Madrid"), n("Atletico Madrid"));
        assert_eq!(n("Atlético Madrid"), "atletico madrid");
        assert_eq!(n("Brighton & Hove Albion"), n("Brighton and Hove Albion"));
        assert_eq!(n("Paris Saint-Germain"), n("Paris Saint Germain"));
        assert_eq!(n("Bodø/Glimt"), "bodo glimt");
        assert_eq!(n("Bayern München"), "bayern munchen");
        assert_eq!(n("Borussia Mönchengladbach"), "borussia monchengladbach");
        assert_eq!(n("Nott'm Forest"), "nottm forest");
        assert_eq!(n("St. Louis Blues"), n("St Louis Blues"));
        assert_eq!(n("L.A. Kings"), n("LA Kings"));
        assert_eq!(n("  Real   Madrid \t"), "real madrid");
        assert_eq!(n("MONTRÉAL CANADIENS"), "montreal canadiens");
    }

    #[test]
    fn club_affixes_are_dropped() {
        assert_eq!(n("Manchester United FC"), n("Manchester United"));
        assert_eq!(n("AFC Bournemouth"), "bournemouth");
        assert_eq!(n("SSC Napoli"), "napoli");
        assert_eq!(n("AS Roma"), "roma");
        assert_eq!(
            n("The Club"),
            "the club",
            "a name made only of affixes is kept"
        );
        assert_eq!(n("FC"), "fc");
        // Words that tell teams apart stay.
        assert_ne!(n("Manchester United"), n("Manchester City"));
        assert_ne!(n("Real Madrid"), n("Atletico Madrid"));
        assert_ne!(n("AC Milan"), n("Inter Milan"));
    }

    #[test]
    fn reserve_and_youth_sides_stay_distinct() {
        assert_ne!(n("Barcelona B"), n("Barcelona"));
        assert_eq!(n("Barcelona B"), "barcelona b");
        assert_ne!(n("Bayern Munich II"), n("Bayern Munich"));
        assert_ne!(n("England U21"), n("England"));
        assert_eq!(n("England U-21"), n("England U21"));
        assert_eq!(n("England U 21"), "england u21");
        assert_ne!(n("Arsenal Women"), n("Arsenal"));
    }

    #[test]
    fn odd_input() {
        assert_eq!(n(""), "");
        assert_eq!(n("---"), "");
        assert_eq!(n("ﬁorentina"), "fiorentina");
        assert_eq!(n("İstanbul Başakşehir"), "istanbul basaksehir");
        assert_eq!(n("Łódź"), "lodz");
    }
}
