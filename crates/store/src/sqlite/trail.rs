//! The trail of a write (crate::trail), appended in the write's own job:
//! the writer runs each job in a savepoint, so a failing append rolls the
//! change back with it.

use rusqlite::Connection;

use crate::{StoreError, Trail};

pub fn append(c: &Connection, trail: &Trail) -> Result<(), StoreError> {
    super::event_log::append(c, &trail.logs)?;
    if let Some(event) = &trail.audit {
        super::audit::append(c, event)?;
    }
    Ok(())
}
