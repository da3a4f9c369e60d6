//! Generated operation table (see codegen).
