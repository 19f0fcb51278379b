//! One record stream through many observers.

use accord_telemetry::{Micros, Record};

use crate::observer::{Finding, Observer, Window};

/// Drives observers over one stream of records.
///
/// Two ways to cut windows:
/// - over files, one window spanning every record ([`Pass::whole`]): the observers
///   finish once, at [`Pass::finish`];
/// - over a live stream (the collector), tumbling windows of a fixed length on the
///   clock the caller passes to [`Pass::tick`]: record time is not trusted to advance
///   (exporters' clocks differ and flows arrive late), arrival time is.
pub struct Pass<'a> {
    observers: Vec<Box<dyn Observer + 'a>>,
    length: Option<Micros>,
    window: Option<Window>,
    records: u64,
}

impl<'a> Pass<'a> {
    /// One window over everything observed.
    pub fn whole(observers: Vec<Box<dyn Observer + 'a>>) -> Self {
        Pass {
            observers,
            length: None,
            window: None,
            records: 0,
        }
    }

    /// Tumbling windows of `length` microseconds (at least one second), starting at
    /// `start` (the caller's clock).
    pub fn tumbling(observers: Vec<Box<dyn Observer + 'a>>, length: Micros, start: Micros) -> Self {
        let length = length.max(1_000_000);
        Pass {
            observers,
            length: Some(length),
            window: Some(Window {
                start,
                end: start.saturating_add(length - 1),
            }),
            records: 0,
        }
    }

    /// The observers' names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.observers.iter().map(|o| o.name()).collect()
    }

    /// Records observed so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Hands one record to every observer.
    #[inline]
    pub fn observe(&mut self, record: &Record<'_>) {
        self.records += 1;
        if self.length.is_none() {
            let ts = record.ts();
            let w = self.window.get_or_insert(Window { start: ts, end: ts });
            w.start = w.start.min(ts);
            w.end = w.end.max(ts);
        }
        for o in &mut self.observers {
            o.observe(record);
        }
    }

    /// For tumbling windows: if `now` is past the current window, finishes it and
    /// returns its findings (the next window starts where it ended). Otherwise, or for
    /// a whole pass, returns nothing.
    pub fn tick(&mut self, now: Micros) -> Vec<Box<dyn Finding>> {
        let (Some(length), Some(w)) = (self.length, self.window) else {
            return Vec::new();
        };
        if now <= w.end {
            return Vec::new();
        }
        let findings = self.finish_window(&w);
        // Skip windows nothing was observed in, so a long idle stretch is one step.
        let behind = (now - w.start) / length;
        let start = w.start.saturating_add(behind.saturating_mul(length));
        self.window = Some(Window {
            start,
            end: start.saturating_add(length - 1),
        });
        findings
    }

    /// Finishes the current window (for a whole pass: the span of every record seen)
    /// and returns every observer's findings, in observer order. A pass that saw no
    /// record has no window and no findings.
    pub fn finish(mut self) -> Vec<Box<dyn Finding>> {
        match self.window {
            Some(w) => self.finish_window(&w),
            None => Vec::new(),
        }
    }

    fn finish_window(&mut self, w: &Window) -> Vec<Box<dyn Finding>> {
        let mut out = Vec::new();
        for o in &mut self.observers {
            out.extend(o.finish(w));
        }
        out
    }
}

impl std::fmt::Debug for Pass<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pass")
            .field("observers", &self.names())
            .field("length", &self.length)
            .field("window", &self.window)
            .field("records", &self.records)
            .finish()
    }
}
