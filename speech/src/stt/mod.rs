//! Local speech recognition (whisper.cpp through whisper-rs).
