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

/// Tumbling windows over a live or replayed stream whose first record is not known in
/// advance: the pass starts at the first record (its window aligned to a multiple of
/// the length), and each record's end time is the clock — a window closes when a
/// record ending past it arrives. What the flow collector and `accord detect
/// --window` share.
pub struct Tumbling<'a> {
    length: Micros,
    observers: Option<Vec<Box<dyn Observer + 'a>>>,
    pass: Option<Pass<'a>>,
    now: Micros,
    windows: u64,
}

impl<'a> Tumbling<'a> {
    /// Windows of `length` microseconds (at least one second) over `observers`.
    pub fn new(observers: Vec<Box<dyn Observer + 'a>>, length: Micros) -> Self {
        Tumbling {
            length: length.max(1_000_000),
            observers: Some(observers),
            pass: None,
            now: Micros::MIN,
            windows: 0,
        }
    }

    /// Observes `record`, which ends at `end` (telemetry time); returns the findings
    /// of the window it closed, if it closed one.
    pub fn observe(&mut self, record: &Record<'_>, end: Micros) -> Vec<Box<dyn Finding>> {
        let length = self.length;
        let observers = &mut self.observers;
        let p = self.pass.get_or_insert_with(|| {
            let ts = record.ts();
            Pass::tumbling(
                observers.take().unwrap_or_default(),
                length,
                ts - ts.rem_euclid(length),
            )
        });
        let mut closed = Vec::new();
        if end > self.now {
            if self.now != Micros::MIN && end.div_euclid(length) != self.now.div_euclid(length) {
                self.windows += 1;
            }
            self.now = end;
            closed = p.tick(end);
        }
        p.observe(record);
        closed
    }

    /// Finishes the open window: its findings, and how many windows were finished in
    /// all (0 when no record came).
    pub fn finish(self) -> (Vec<Box<dyn Finding>>, u64) {
        match self.pass {
            Some(p) => (p.finish(), self.windows + 1),
            None => (Vec::new(), 0),
        }
    }
}

impl std::fmt::Debug for Tumbling<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tumbling")
            .field("length", &self.length)
            .field("pass", &self.pass)
            .field("windows", &self.windows)
            .finish()
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
