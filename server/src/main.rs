//! The `consent-portal` binary; see `cli` for its commands.

// mimalloc rather than glibc's allocator: under load glibc spent about a sixth of the portal's
// CPU in malloc, free and heap consolidation (perf, tenant list at 100,000 tenants).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match server::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
