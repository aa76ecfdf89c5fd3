//! An in-page confirmation: a modal `<dialog role="alertdialog">` instead of the browser's
//! `confirm()`, which cannot be styled, reads the page's origin aloud instead of the question,
//! and is suppressed by some browsers after a few uses.
//!
//! The native dialog does what an accessible modal needs: `showModal()` makes the rest of the
//! page inert (no focus or clicks behind it) and Escape fires `cancel`. The component adds the
//! rest: focus moves to the least destructive button (Cancel) when it opens, and returns to the
//! control that opened it when it closes, whichever way it closes.

use leptos::callback::{Callable, Callback};
use leptos::prelude::*;

/// What to ask, and what to do when the person confirms.
#[derive(Clone)]
pub struct ConfirmRequest {
    /// The question, as the dialog's heading (its accessible name).
    pub title: String,
    /// What will happen, as the dialog's description.
    pub message: String,
    /// The confirming button's label: the action itself ("Archive", "Apply fix"), never "OK".
    pub confirm_label: String,
    /// Run once, when the person confirms. Make it where the page or panel is set up, never in
    /// an event handler: a callback belongs to the reactive owner current when it is made, and an
    /// owner current during an event may be gone by the time the person confirms.
    pub on_confirm: Callback<()>,
}

/// The dialog. Put one on the page and set `request` to ask; it clears `request` when it closes.
/// `id` prefixes the element ids (title, description), so two dialogs on one page stay apart.
#[component]
pub fn ConfirmDialog(id: &'static str, request: RwSignal<Option<ConfirmRequest>>) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let cancel_button = NodeRef::<leptos::html::Button>::new();
    // The element that had focus when the dialog opened (the button that asked), to return to.
    // A browser handle is not `Send`, so in the browser it is kept thread-local; on the server
    // (several threads, nothing to keep) a thread-local value would be dropped on another thread
    // and panic, so it is a plain one there.
    #[cfg(feature = "hydrate")]
    let opener = StoredValue::new_local(None::<web_sys_opener::Opener>);
    #[cfg(not(feature = "hydrate"))]
    let opener = StoredValue::new(None::<web_sys_opener::Opener>);

    Effect::new(move |_| {
        let open = request.with(Option::is_some);
        let Some(el) = dialog.get() else { return };
        if open && !el.open() {
            opener.set_value(web_sys_opener::current());
            let _ = el.show_modal();
            if let Some(b) = cancel_button.get() {
                let _ = b.focus();
            }
        } else if !open && el.open() {
            el.close();
        }
    });
    let finish = move |confirmed: bool| {
        let asked = request.get_untracked();
        request.set(None);
        if let Some(el) = dialog.get_untracked() {
            el.close();
        }
        if let Some(o) = opener.get_value() {
            web_sys_opener::give_focus(&o);
        }
        opener.set_value(None);
        if confirmed && let Some(r) = asked {
            r.on_confirm.run(());
        }
    };

    let (title_id, labelled_by) = (format!("{id}-title"), format!("{id}-title"));
    let (message_id, described_by) = (format!("{id}-message"), format!("{id}-message"));
    view! {
        <dialog
            node_ref=dialog
            class="confirm-dialog"
            role="alertdialog"
            aria-modal="true"
            aria-labelledby=labelled_by
            aria-describedby=described_by
            data-testid="confirm-dialog"
            // Escape: the browser closes the dialog; this keeps the request and the focus in step.
            on:cancel=move |ev: leptos::ev::Event| {
                ev.prevent_default();
                finish(false);
            }
        >
            <h2 id=title_id>{move || request.with(|r| r.as_ref().map(|r| r.title.clone()))}</h2>
            <p id=message_id>{move || request.with(|r| r.as_ref().map(|r| r.message.clone()))}</p>
            <div class="dialog-actions">
                <button type="button" node_ref=cancel_button on:click=move |_| finish(false)>"Cancel"</button>
                <button type="button" class="primary" on:click=move |_| finish(true)>
                    {move || request.with(|r| r.as_ref().map(|r| r.confirm_label.clone()))}
                </button>
            </div>
        </dialog>
    }
}

/// The focused element, kept to give focus back: a browser handle in the browser, nothing on the
/// server (where no dialog ever opens).
mod web_sys_opener {
    #[cfg(feature = "hydrate")]
    pub type Opener = web_sys::HtmlElement;
    #[cfg(not(feature = "hydrate"))]
    #[derive(Clone)]
    pub struct Opener;

    /// The element that has focus now, if it can take it back later.
    pub fn current() -> Option<Opener> {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element())
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        }
        #[cfg(not(feature = "hydrate"))]
        None
    }

    /// Gives focus back to `opener` (a no-op on the server).
    pub fn give_focus(opener: &Opener) {
        #[cfg(feature = "hydrate")]
        let _ = opener.focus();
        #[cfg(not(feature = "hydrate"))]
        let _ = opener;
    }
}
