//! The leagues and teams of the demo world.
//!
//! Real club names where they are public knowledge (NFL, NBA, Premier League, ...), invented
//! but plausible player names for tennis. Each league adds a scoring rate and a display clock
//! to its sport's [`SportRules`], calibrated so final scores look like the real thing (NFL
//! around 45 points, NBA around 225, soccer 0–5 goals).

use super::rules::{SportRules, BASEBALL, BASKETBALL, FOOTBALL, HOCKEY, SOCCER, TENNIS};

/// One league of the demo world.
#[derive(Debug, Clone)]
pub struct LeagueDef {
    /// Sport as inplay names it (`football`, `basketball`, `soccer`, `hockey`, `baseball`,
    /// `tennis`).
    pub sport: &'static str,
    /// League as inplay names it (`nfl`, `premier-league`, `atp`, ...).
    pub league: &'static str,
    /// Display name (`NFL`, `Premier League`).
    pub name: &'static str,
    /// Teams (or players); fixtures pair two distinct entries.
    pub teams: &'static [&'static str],
    /// The sport's rules.
    pub(crate) rules: &'static SportRules,
    /// Chance of a scoring event per step of play.
    pub(crate) event_rate: f64,
    /// Real length of a period for the displayed clock, ms (`0` = no clock).
    pub(crate) clock_period_ms: i64,
    /// Position in [`World::leagues`](super::World::leagues).
    pub(crate) index: usize,
}

const MIN: i64 = 60_000;

/// sport, league, display name, teams, rules, scoring events per step, clock period (ms).
type LeagueRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static SportRules,
    f64,
    i64,
);

/// All leagues, in a fixed order (the order is part of the seed: do not sort).
#[rustfmt::skip]
pub(crate) fn leagues() -> Vec<LeagueDef> {
    let defs: [LeagueRow; 11] = [
        ("football", "nfl", "NFL", NFL, &FOOTBALL, 0.07, 15 * MIN),
        ("football", "ncaaf", "NCAAF", NCAAF, &FOOTBALL, 0.085, 15 * MIN),
        ("basketball", "nba", "NBA", NBA, &BASKETBALL, 0.675, 12 * MIN),
        ("basketball", "euroleague", "EuroLeague", EUROLEAGUE, &BASKETBALL, 0.49, 10 * MIN),
        ("soccer", "premier-league", "Premier League", PREMIER_LEAGUE, &SOCCER, 0.0233, 45 * MIN),
        ("soccer", "laliga", "LaLiga", LALIGA, &SOCCER, 0.0213, 45 * MIN),
        ("hockey", "nhl", "NHL", NHL, &HOCKEY, 0.068, 20 * MIN),
        ("hockey", "khl", "KHL", KHL, &HOCKEY, 0.058, 20 * MIN),
        ("baseball", "mlb", "MLB", MLB, &BASEBALL, 0.057, 0),
        ("tennis", "atp", "ATP", ATP, &TENNIS, 1.0, 0),
        ("tennis", "wta", "WTA", WTA, &TENNIS, 1.0, 0),
    ];
    defs.into_iter()
        .enumerate()
        .map(
            |(index, (sport, league, name, teams, rules, event_rate, clock))| LeagueDef {
                sport,
                league,
                name,
                teams,
                rules,
                event_rate,
                clock_period_ms: clock,
                index,
            },
        )
        .collect()
}

#[rustfmt::skip]
const NFL: &[&str] = &[
    "Arizona Cardinals", "Atlanta Falcons", "Baltimore Ravens", "Buffalo Bills",
    "Carolina Panthers", "Chicago Bears", "Cincinnati Bengals", "Cleveland Browns",
    "Dallas Cowboys", "Denver Broncos", "Detroit Lions", "Green Bay Packers", "Houston Texans",
    "Indianapolis Colts", "Jacksonville Jaguars", "Kansas City Chiefs", "Las Vegas Raiders",
    "Los Angeles Chargers", "Los Angeles Rams", "Miami Dolphins", "Minnesota Vikings",
    "New England Patriots", "New Orleans Saints", "New York Giants", "New York Jets",
    "Philadelphia Eagles", "Pittsburgh Steelers", "San Francisco 49ers", "Seattle Seahawks",
    "Tampa Bay Buccaneers", "Tennessee Titans", "Washington Commanders",
];

#[rustfmt::skip]
const NCAAF: &[&str] = &[
    "Alabama Crimson Tide", "Georgia Bulldogs", "Ohio State Buckeyes", "Michigan Wolverines",
    "Texas Longhorns", "Oregon Ducks", "Penn State Nittany Lions", "Notre Dame Fighting Irish",
    "LSU Tigers", "Clemson Tigers", "Florida State Seminoles", "USC Trojans",
    "Oklahoma Sooners", "Tennessee Volunteers", "Ole Miss Rebels", "Miami Hurricanes",
    "Washington Huskies", "Utah Utes", "Wisconsin Badgers", "Iowa Hawkeyes", "Auburn Tigers",
    "Texas A&M Aggies", "Florida Gators", "Kansas State Wildcats", "Oklahoma State Cowboys",
    "Louisville Cardinals", "Missouri Tigers", "Arizona Wildcats", "Iowa State Cyclones",
    "Nebraska Cornhuskers", "UCLA Bruins", "Kentucky Wildcats", "North Carolina Tar Heels",
    "South Carolina Gamecocks", "Arkansas Razorbacks", "Virginia Tech Hokies", "Baylor Bears",
    "TCU Horned Frogs", "Boise State Broncos", "SMU Mustangs",
];

#[rustfmt::skip]
const NBA: &[&str] = &[
    "Atlanta Hawks", "Boston Celtics", "Brooklyn Nets", "Charlotte Hornets", "Chicago Bulls",
    "Cleveland Cavaliers", "Dallas Mavericks", "Denver Nuggets", "Detroit Pistons",
    "Golden State Warriors", "Houston Rockets", "Indiana Pacers", "LA Clippers",
    "Los Angeles Lakers", "Memphis Grizzlies", "Miami Heat", "Milwaukee Bucks",
    "Minnesota Timberwolves", "New Orleans Pelicans", "New York Knicks",
    "Oklahoma City Thunder", "Orlando Magic", "Philadelphia 76ers", "Phoenix Suns",
    "Portland Trail Blazers", "Sacramento Kings", "San Antonio Spurs", "Toronto Raptors",
    "Utah Jazz", "Washington Wizards",
];

#[rustfmt::skip]
const EUROLEAGUE: &[&str] = &[
    "Real Madrid", "FC Barcelona", "Olympiacos", "Panathinaikos", "Fenerbahce Beko",
    "Anadolu Efes", "AS Monaco", "Partizan Belgrade", "Crvena Zvezda", "Zalgiris Kaunas",
    "Maccabi Tel Aviv", "Baskonia", "Virtus Bologna", "Olimpia Milano", "Bayern Munich",
    "ALBA Berlin", "Paris Basketball", "LDLC ASVEL",
];

#[rustfmt::skip]
const PREMIER_LEAGUE: &[&str] = &[
    "Arsenal", "Aston Villa", "Bournemouth", "Brentford", "Brighton & Hove Albion", "Chelsea",
    "Crystal Palace", "Everton", "Fulham", "Ipswich Town", "Leicester City", "Liverpool",
    "Manchester City", "Manchester United", "Newcastle United", "Nottingham Forest",
    "Southampton", "Tottenham Hotspur", "West Ham United", "Wolverhampton Wanderers",
];

#[rustfmt::skip]
const LALIGA: &[&str] = &[
    "Real Madrid", "Barcelona", "Atletico Madrid", "Athletic Club", "Villarreal", "Real Betis",
    "Real Sociedad", "Girona", "Sevilla", "Valencia", "Osasuna", "Celta Vigo",
    "Rayo Vallecano", "Getafe", "Mallorca", "Alaves", "Las Palmas", "Espanyol", "Leganes",
    "Real Valladolid",
];

#[rustfmt::skip]
const NHL: &[&str] = &[
    "Anaheim Ducks", "Boston Bruins", "Buffalo Sabres", "Calgary Flames", "Carolina Hurricanes",
    "Chicago Blackhawks", "Colorado Avalanche", "Columbus Blue Jackets", "Dallas Stars",
    "Detroit Red Wings", "Edmonton Oilers", "Florida Panthers", "Los Angeles Kings",
    "Minnesota Wild", "Montreal Canadiens", "Nashville Predators", "New Jersey Devils",
    "New York Islanders", "New York Rangers", "Ottawa Senators", "Philadelphia Flyers",
    "Pittsburgh Penguins", "San Jose Sharks", "Seattle Kraken", "St. Louis Blues",
    "Tampa Bay Lightning", "Toronto Maple Leafs", "Utah Hockey Club", "Vancouver Canucks",
    "Vegas Golden Knights", "Washington Capitals", "Winnipeg Jets",
];

#[rustfmt::skip]
const KHL: &[&str] = &[
    "CSKA Moscow", "SKA Saint Petersburg", "Ak Bars Kazan", "Metallurg Magnitogorsk",
    "Avangard Omsk", "Lokomotiv Yaroslavl", "Dynamo Moscow", "Spartak Moscow",
    "Traktor Chelyabinsk", "Salavat Yulaev Ufa", "Torpedo Nizhny Novgorod",
    "Severstal Cherepovets", "Avtomobilist Yekaterinburg", "Barys Astana", "Dinamo Minsk",
    "Sibir Novosibirsk", "Neftekhimik Nizhnekamsk", "Amur Khabarovsk", "Admiral Vladivostok",
    "Lada Togliatti", "Vityaz Podolsk", "Kunlun Red Star",
];

#[rustfmt::skip]
const MLB: &[&str] = &[
    "Arizona Diamondbacks", "Atlanta Braves", "Baltimore Orioles", "Boston Red Sox",
    "Chicago Cubs", "Chicago White Sox", "Cincinnati Reds", "Cleveland Guardians",
    "Colorado Rockies", "Detroit Tigers", "Houston Astros", "Kansas City Royals",
    "Los Angeles Angels", "Los Angeles Dodgers", "Miami Marlins", "Milwaukee Brewers",
    "Minnesota Twins", "New York Mets", "New York Yankees", "Oakland Athletics",
    "Philadelphia Phillies", "Pittsburgh Pirates", "San Diego Padres", "San Francisco Giants",
    "Seattle Mariners", "St. Louis Cardinals", "Tampa Bay Rays", "Texas Rangers",
    "Toronto Blue Jays", "Washington Nationals",
];

#[rustfmt::skip]
// Invented players: plausible, and nobody's real record.
const ATP: &[&str] = &[
    "Luca Moretti", "Jan Kowalczyk", "Mateo Ferrer", "Nikolai Volkov", "Thomas Berger",
    "Alexei Sorokin", "Hugo Lambert", "Daniel Okafor", "Kenji Watanabe", "Felix Brandt",
    "Marco Rinaldi", "Pablo Navarro", "Jakub Dvorak", "Stefan Ilic", "Arthur Laurent",
    "Oliver Hayes", "Emil Lindqvist", "Diego Salazar", "Ivan Petrenko", "Sebastian Koch",
    "Tomas Varga", "Andre Costa", "Lukas Hoffmann", "Rafael Duarte", "Max Keller",
    "Nicolas Girard", "Yuto Tanaka", "Ben Carter", "Leo Marchetti", "Filip Horvat",
    "Matteo Conti", "Aleksandar Markovic", "Sam Whitfield", "Carlos Ibanez", "Viktor Hallberg",
    "Jonas Weber", "Gabriel Moreau", "Ethan Brooks", "Mikhail Orlov", "Antoine Roux",
];

#[rustfmt::skip]
const WTA: &[&str] = &[
    "Elena Markova", "Sofia Bianchi", "Anna Kowalska", "Lucia Romero", "Mia Schneider",
    "Chloe Martin", "Yuki Sato", "Olivia Grant", "Daria Ivanova", "Ines Duarte",
    "Katarina Novak", "Emma Lindgren", "Valentina Ricci", "Hana Cerna", "Julia Wagner",
    "Camille Fontaine", "Amara Nwosu", "Lena Hofmann", "Paula Ortega", "Nina Petrovic",
    "Grace Whitman", "Alina Zaytseva", "Marta Silva", "Eva Horvath", "Isabel Vega",
    "Tereza Mala", "Aiko Mori", "Zoe Bennett", "Clara Weiss", "Irina Sokolova",
    "Laura Conti", "Maya Fischer", "Sara Jovanovic", "Ella Morgan", "Vera Kuznetsova",
    "Noemi Russo", "Lea Dubois", "Freya Nilsson", "Ana Pereira", "Jade Thompson",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leagues_are_well_formed() {
        let all = leagues();
        assert!(all.len() >= 11);
        for (i, l) in all.iter().enumerate() {
            assert_eq!(l.index, i);
            assert!(l.teams.len() >= 18, "{}", l.league);
            let mut names = l.teams.to_vec();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), l.teams.len(), "duplicate team in {}", l.league);
        }
    }
}
