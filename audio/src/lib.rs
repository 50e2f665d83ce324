//! Pure audio DSP for Switchboard: everything between a transport's bytes and a model's
//! samples. No tokio, no network, no files beyond WAV encode/decode of byte buffers.
