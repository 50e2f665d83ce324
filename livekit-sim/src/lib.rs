//! A LiveKit room simulator on loopback (skeleton; see issue 6).
