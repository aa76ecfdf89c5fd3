//! Logging: `tracing` to stderr as text or JSON, filtered by `RUST_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The id of the current request (also sent as `x-request-id`): every log line of the request
/// carries it, and an unexpected error shows it to the person who will quote it. Set by the
/// HTTP middleware; read by any handler (the integration API's too).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Installs the global subscriber once; later calls are ignored.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
