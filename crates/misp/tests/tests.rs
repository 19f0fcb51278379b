mod convert;
mod documented;
