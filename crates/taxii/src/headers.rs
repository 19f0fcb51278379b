//! Response header names (lowercase, as HTTP/2 and the `http` crate want them).

/// `X-TAXII-Date-Added-First`: `date_added` of the first object of a page.
pub const DATE_ADDED_FIRST: &str = "x-taxii-date-added-first";
/// `X-TAXII-Date-Added-Last`: `date_added` of the last object of a page; a client
/// continues from it with `added_after` when a server gives no `next`.
pub const DATE_ADDED_LAST: &str = "x-taxii-date-added-last";
/// `X-Accord-Receipt`: the ledger receipt id of a response that released objects under
/// an agreement (its proof: `GET /{api_root}/ledger/receipts/{id}/`).
pub const RECEIPT: &str = "x-accord-receipt";
