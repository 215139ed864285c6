//! Collects every error of one derive so the user sees all mistakes at once.

use std::fmt::Display;

use quote::ToTokens;

/// The error collector.
#[derive(Default)]
pub struct Ctxt {
    errors: Option<syn::Error>,
    count: usize,
    recoverable: usize,
}

impl Ctxt {
    /// Records an error spanning `tokens`.
    pub fn error_spanned_by<T: ToTokens, M: Display>(&mut self, tokens: T, message: M) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records an error at `span`.
    pub fn error_at<M: Display>(&mut self, span: proc_macro2::Span, message: M) {
        self.push(syn::Error::new(span, message));
    }

    /// Records a `syn` error.
    pub fn push(&mut self, error: syn::Error) {
        self.count += 1;
        match &mut self.errors {
            Some(errors) => errors.combine(error),
            None => self.errors = Some(error),
        }
    }

    /// Records an error after which the model is still emitted: the option
    /// it is about is left out, and what is left is sound, so code using
    /// the model does not drown the error in others.
    pub fn push_recoverable(&mut self, error: syn::Error) {
        self.recoverable += 1;
        self.push(error);
    }

    /// Whether every error so far is [recoverable](Self::push_recoverable).
    pub fn only_recoverable(&self) -> bool {
        self.count == self.recoverable
    }

    /// How many errors were recorded: compared before and after a check, it
    /// says whether that check failed.
    pub fn count(&self) -> usize {
        self.count
    }

    /// All errors so far, combined.
    pub fn check(self) -> Result<(), syn::Error> {
        self.errors.map_or(Ok(()), Err)
    }
}
