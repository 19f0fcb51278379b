mod convert;
