//! Browser entry point: hydrates the islands of the server-rendered page (the interactive parts;
//! see the `app` crate's docs), then marks the document as interactive.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

// The islands' hydration functions are `#[wasm_bindgen]` exports of the `app` crate: linking it
// is what puts them in this module.
pub use app;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    mark_hydrated_after_islands();
}

/// Sets `data-hydrated` on `<body>` once every island is interactive, so people's tools and the
/// browser tests can tell a server-rendered page from an interactive one. Leptos' loader hydrates
/// the islands right after `hydrate()` returns, walking the page in promise callbacks
/// (microtasks); a zero-delay timer is a macrotask, so it runs only after that walk has finished.
fn mark_hydrated_after_islands() {
    let Some(window) = web_sys::window() else { return };
    let mark = Closure::once_into_js(|| {
        if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(mark.unchecked_ref(), 0);
}
