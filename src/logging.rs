//! Log output: JSON lines (default) or human-readable, level from config / `LOG_LEVEL`.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `filter` is a level (`info`) or a tracing directive.
pub(crate) fn init(filter: &str, pretty: bool) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_thread_names(true);
    if pretty {
        builder.init();
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    }
}
