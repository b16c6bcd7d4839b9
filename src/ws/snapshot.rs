//! A match's current state as one WebSocket message, from this shard's read view:
//! `{"type":"snapshot","matchId","seq","epoch","data":{"score","markets"},"timestamp"}`.

use std::sync::Arc;

use async_tungstenite::tungstenite::Utf8Bytes;
use inplay_core::MatchId;
use serde_json::{Map, Value};

use crate::{clock, view::ViewStore};

/// The snapshot of `id` and the (epoch, seq) it is at (`None` when the match is not known yet:
/// the message then has `seq` 0 and null `epoch` and `data`). `recovered` is added when the
/// snapshot answers a failed recovery.
pub(crate) fn snapshot(
    view: &ViewStore,
    id: &MatchId,
    recovered: Option<bool>,
) -> (Utf8Bytes, Option<(Arc<str>, u64)>) {
    let mut frame = Map::new();
    frame.insert("type".into(), "snapshot".into());
    frame.insert("matchId".into(), id.as_str().into());
    let seq = match view.get(id.as_str()) {
        Some(m) => {
            frame.insert("seq".into(), m.seq().into());
            frame.insert("epoch".into(), (**m.epoch()).into());
            let data = serde_json::from_slice(&m.detail()).unwrap_or(Value::Null);
            frame.insert("data".into(), data);
            Some((m.epoch().clone(), m.seq()))
        }
        None => {
            frame.insert("seq".into(), 0.into());
            frame.insert("epoch".into(), Value::Null);
            frame.insert("data".into(), Value::Null);
            None
        }
    };
    if let Some(r) = recovered {
        frame.insert("recovered".into(), r.into());
    }
    frame.insert("timestamp".into(), clock::now().to_iso().into());
    (Utf8Bytes::from(Value::Object(frame).to_string()), seq)
}
