//! One JVM and a resident agent connection, kept open for many commands: the shell and watch mode
//! hold a [`Jvm`] for their lifetime instead of connecting (and checking the peer, and saying
//! hello) once per command. One-shot commands keep using [`agent::call_or_load`], which is what
//! [`Jvm::call`] does the first time.
//!
//! A `Jvm` is tied to one process: its pid and start time are checked when the channel is opened
//! (by the agent client, on the socket's peer credentials), and a channel to a process that has
//! gone is reported as [`AgentError::Exited`], never silently reopened to a reused pid.

use std::time::Duration;

use jhot_attach::{AttachOptions, Target};
use jhot_classfile::verdict::Vm;
use serde::de::DeserializeOwned;

use crate::agent::channel::Session;
use crate::agent::protocol::{Hello, Request};
use crate::agent::{self, AgentError, Connection};
use crate::error::Error;

/// A JVM and, once a command needed it, an open channel to jhot's agent in it.
pub struct Jvm {
    pub target: Target,
    pub attach_opts: AttachOptions,
    /// For each call (the agent's answer).
    pub timeout: Duration,
    session: Option<Session>,
    /// How the agent came to be resident: `Some` after the first call.
    connection: Option<Connection>,
}

impl Jvm {
    /// Opens `pid` (checks it is a HotSpot JVM this user may attach to); connects to nothing yet.
    pub fn open(pid: u32, attach_opts: AttachOptions, timeout: Duration) -> Result<Jvm, Error> {
        Ok(Jvm { target: Target::open(pid)?, attach_opts, timeout, session: None, connection: None })
    }

    pub fn pid(&self) -> u32 {
        self.target.pid
    }

    /// The redefinition rules of this JVM's JDK; `None` when the JVM does not publish its version
    /// (`-XX:-UsePerfData`): the caller decides, rather than a guessed JDK here.
    pub fn vm(&self) -> Option<Vm> {
        let feature = agent::java_feature(self.target.java_version.as_deref()?);
        Some(Vm { feature, allow_add_delete_methods: self.target.flags.allow_add_delete_methods })
    }

    /// Whether the channel is open (the agent answered this `Jvm` before and the socket is kept).
    pub fn connected(&self) -> bool {
        self.session.is_some()
    }

    /// The agent's greeting on the open channel.
    pub fn hello(&self) -> Option<&Hello> {
        self.session.as_ref().map(|s| &s.hello)
    }

    /// How the agent came to be resident for this `Jvm` (loaded by its first call, or found).
    pub fn connection(&self) -> Option<&Connection> {
        self.connection.as_ref()
    }

    /// Connects to the agent if it is resident, without loading it. `Ok(false)`: it is not.
    pub async fn connect_resident(&mut self) -> Result<bool, AgentError> {
        if self.session.is_none() {
            self.session = agent::connect_resident(&self.target, self.timeout).await?;
            if self.session.is_some() {
                self.connection = Some(Connection { loaded_now: false, load_ms: None, jep451_warning: false });
            }
        }
        Ok(self.session.is_some())
    }

    /// Sends one request, loading the agent first if it is not resident, and keeps the channel
    /// for the next call. A broken channel is dropped (the next call reconnects, after the
    /// agent client has checked it is still the same process).
    pub async fn call<T: DeserializeOwned>(
        &mut self,
        request: &Request,
        blobs: Vec<Vec<u8>>,
    ) -> Result<(T, Vec<Vec<u8>>), AgentError> {
        if let Some(session) = self.session.as_mut() {
            let answer = session.call(request, blobs).await;
            if matches!(
                answer,
                Err(AgentError::Io(_) | AgentError::Closed | AgentError::Exited { .. } | AgentError::Timeout { .. })
            ) {
                self.session = None;
            }
            return answer;
        }
        let call = agent::call_or_load::<T>(&self.target, &self.attach_opts, self.timeout, request, blobs).await?;
        self.connection.get_or_insert(call.connection);
        self.session = match call.session {
            Some(s) => Some(s),
            // A cold load answered through the request file; the channel opens right after. If it
            // does not, the answer still stands (the request was carried out): the next call
            // connects to the then-resident agent.
            None => agent::wait_for_channel(&self.target, self.timeout).await.ok(),
        };
        call.answer
    }

    /// Closes the channel (the agent stays resident).
    pub fn close(&mut self) {
        self.session = None;
    }
}
