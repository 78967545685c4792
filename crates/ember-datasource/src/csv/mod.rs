//! Spark-compatible CSV reading: options ([`options`]), tokenizing ([`tokenizer`]),
//! schema inference ([`infer`]), decoding to Arrow ([`decode`]) and the DataFusion
//! table provider and scan ([`table`]).

pub mod decode;
pub mod infer;
pub mod options;
pub mod table;
pub mod tokenizer;

pub use options::{CsvOptions, ParseMode};
pub use table::CsvTable;
