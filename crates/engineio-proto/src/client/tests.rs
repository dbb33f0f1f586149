//! Fake-clock tests of the client connection state machine.
