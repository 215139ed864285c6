use proc_macro::TokenStream;
#[proc_macro_derive(
    Model,
    attributes(model, belongs_to, has_one, has_many, belongs_to_many)
)]
pub fn derive_model(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
