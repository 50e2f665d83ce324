//! Local speech synthesis (hibari ONNX voice, espeak-ng subprocess fallback).
