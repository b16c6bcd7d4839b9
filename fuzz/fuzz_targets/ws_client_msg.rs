//! WebSocket client messages on arbitrary text, as a session handles them: the depth scan
//! first, then the `/ws` parser and the `/live` / `/markets` one. The first byte picks the
//! depth limit, so small and large limits are both explored.
#![no_main]

use inplay_wire::{
    client_msg::{parse_ping, MuxMsg},
    json_depth::check_depth,
    valid_name,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let max_depth = usize::from(first % 64) + 1;
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    if check_depth(text.as_bytes(), max_depth).is_err() {
        return;
    }
    match MuxMsg::parse(text) {
        Ok(MuxMsg::SubscribeMatches(subs)) => {
            assert!(subs.iter().all(|(id, _)| valid_name(id)));
        }
        Ok(MuxMsg::UnsubscribeMatches(ids)) => assert!(ids.iter().all(|id| valid_name(id))),
        Ok(MuxMsg::SubscribeSport(t) | MuxMsg::UnsubscribeSport(t)) => {
            assert!(valid_name(&t.sport) && t.league.as_deref().is_none_or(valid_name));
        }
        Ok(MuxMsg::Ping) => {}
        Err(message) => assert!(!message.is_empty()),
    }
    let _ = parse_ping(text);
});
