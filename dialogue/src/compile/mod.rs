//! Compile step: YAML text → checked [`Script`], or every problem found as [`Diagnostic`]s
//! with file, line and column. Reading goes node by node and handler by handler so one bad
//! entry does not hide errors elsewhere; graph checks (unknown targets, unreachable nodes,
//! no reachable end) run on whatever could be read.

mod graph;
mod nodes;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::NaiveTime;
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use crate::diag::{DiagKind, Diagnostic, Sink};
use crate::duration::parse_duration;
use crate::expr::{self, Expr, ExprError, Ty};
use crate::recognize::text::normalize;
use crate::schema::{self, HandlerDoc, Header, ScheduleDoc, S};
use crate::script::{
    Followup, IvrAction, IvrRule, Schedule, Script, SelectRule, ServiceHours, VarDef, BUILTIN_VARS,
};
use crate::template::{Template, TemplateError};
use crate::value::{Value, VarType};
use crate::yaml::{self, from_node, DeError, Kind, Node, Pos};

/// The `person_pause` a script may set: beyond 2 s the silence that ends any greeting
/// (`AmdConfig::greeting_end_silence_ms`, 2.1 s) decides first.
const PERSON_PAUSE: std::ops::RangeInclusive<Duration> =
    Duration::from_millis(300)..=Duration::from_secs(2);

/// Compiles script source. `file` is used in diagnostics only.
///
/// # Errors
/// Every problem found, in source order.
pub fn compile(file: &str, src: &str) -> Result<Script, Vec<Diagnostic>> {
    let mut cx = Cx {
        sink: Sink::new(file),
        vars: BTreeMap::new(),
        vars_known: true,
        index: HashMap::new(),
    };
    let (root, dups) = match yaml::parse(src) {
        Ok(r) => r,
        Err(e) => {
            cx.sink.push(e.pos, DiagKind::BadYaml, e.message);
            return Err(cx.sink.diags);
        }
    };
    for d in dups {
        cx.sink.push(d.pos, DiagKind::BadYaml, d.message);
    }
    let Kind::Map(entries) = &root.kind else {
        cx.sink.push(
            root.pos,
            DiagKind::BadYaml,
            format!("a script is a mapping, found {}", root.describe()),
        );
        return Err(cx.sink.diags);
    };

    let mut rest = Vec::new();
    let (mut nodes_node, mut handlers_node) = (None, None);
    for (k, v) in entries {
        match k.as_str() {
            Some("nodes") => nodes_node = Some(v),
            Some("handlers") => handlers_node = Some(v),
            _ => rest.push((k.clone(), v.clone())),
        }
    }
    let header_node = Node {
        pos: root.pos,
        kind: Kind::Map(rest),
    };
    let header: Option<Header> = match from_node(&header_node) {
        Ok(h) => Some(h),
        Err(e) => {
            cx.de_error(root.pos, e);
            None
        }
    };

    // Variables first: everything else is checked against them.
    for (name, ty) in BUILTIN_VARS {
        cx.vars.insert(
            (*name).to_string(),
            VarDef {
                ty: *ty,
                default: Value::Null,
                builtin: true,
            },
        );
    }
    match &header {
        Some(h) => cx.declare_vars(h, &header_node),
        None => cx.vars_known = false,
    }

    let raw_nodes = match nodes_node {
        Some(n) => nodes::read_nodes(&mut cx, n),
        None => {
            cx.sink
                .push(root.pos, DiagKind::BadValue, "missing field `nodes`");
            Vec::new()
        }
    };
    let raw_handlers: Vec<(Pos, HandlerDoc)> = match handlers_node {
        None => Vec::new(),
        Some(n) => match &n.kind {
            Kind::Seq(items) => items
                .iter()
                .filter_map(|item| match from_node::<HandlerDoc>(item) {
                    Ok(h) => Some((item.pos, h)),
                    Err(e) => {
                        cx.de_error(item.pos, e);
                        None
                    }
                })
                .collect(),
            _ if n.is_null() => Vec::new(),
            _ => {
                cx.sink
                    .push(n.pos, DiagKind::BadValue, "`handlers` must be a list");
                Vec::new()
            }
        },
    };

    // Index ids (duplicates reported at the later one).
    for raw in &raw_nodes {
        if cx.index.contains_key(&raw.id.value) {
            cx.sink.push(
                raw.id.pos,
                DiagKind::DuplicateId,
                format!("duplicate node id `{}`", raw.id.value),
            );
        } else {
            let i = cx.index.len();
            cx.index.insert(raw.id.value.clone(), i);
        }
    }
    let mut seen = std::collections::HashSet::new();
    let raw_nodes: Vec<_> = raw_nodes
        .into_iter()
        .filter(|r| seen.insert(r.id.value.clone()))
        .collect();

    let compiled_nodes: Vec<_> = raw_nodes
        .iter()
        .map(|r| nodes::compile_node(&mut cx, r))
        .collect();
    let handlers: Vec<_> = raw_handlers
        .iter()
        .filter_map(|(p, h)| nodes::compile_handler(&mut cx, *p, h))
        .collect();

    let start = match header.as_ref().and_then(|h| h.start.as_ref()) {
        Some(s) => cx.target(s),
        None => 0,
    };
    if raw_nodes.is_empty() && nodes_node.is_some() {
        cx.sink.push(
            nodes_node.map_or(root.pos, |n| n.pos),
            DiagKind::NoReachableEnd,
            "the script has no nodes",
        );
    }
    let script_head = header.map(|h| cx.compile_header(h));

    let nodes: Vec<_> = compiled_nodes.into_iter().flatten().collect();
    if cx.sink.diags.is_empty() && nodes.len() == raw_nodes.len() {
        graph::check(&mut cx.sink, &nodes, &handlers, start);
    }
    if !cx.sink.diags.is_empty() {
        let mut d = cx.sink.diags;
        d.sort_by_key(|d| (d.line, d.col));
        return Err(d);
    }
    let Some(head) = script_head else {
        return Err(cx.sink.diags);
    };
    let version = Sha256::digest(src.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Script {
        id: head.id,
        version,
        file: file.to_string(),
        description: head.description,
        language: head.language,
        voice: head.voice,
        max_duration: head.max_duration,
        answer_timeout: head.answer_timeout,
        person_pause: head.person_pause,
        endpointing: head.endpointing,
        tz: head.tz,
        vars: cx.vars,
        select: head.select,
        service_hours: head.service_hours,
        voicemail: head.voicemail,
        consent_notice: head.consent_notice,
        system_prompt: head.system_prompt,
        key_points: head.key_points,
        not_answered: head.not_answered,
        ivr: head.ivr,
        start,
        nodes,
        handlers,
        index: cx.index,
    })
}

/// Compiled header fields.
struct Head {
    id: String,
    description: String,
    language: String,
    voice: Option<String>,
    max_duration: Option<Duration>,
    answer_timeout: Option<Duration>,
    person_pause: Option<Duration>,
    endpointing: schema::Endpointing,
    tz: Tz,
    select: Vec<SelectRule>,
    service_hours: Option<ServiceHours>,
    voicemail: Option<Template>,
    consent_notice: Option<Template>,
    system_prompt: Option<Template>,
    key_points: Vec<Template>,
    not_answered: Option<Followup>,
    ivr: Vec<IvrRule>,
}

/// Compile context: diagnostics, declared variables, node index.
pub(crate) struct Cx {
    pub sink: Sink,
    pub vars: BTreeMap<String, VarDef>,
    /// False when the header could not be read: variable checks are skipped to avoid noise.
    pub vars_known: bool,
    pub index: HashMap<String, usize>,
}

impl Cx {
    pub fn de_error(&mut self, fallback: Pos, e: DeError) {
        let kind = if e.message.contains("unknown field") {
            DiagKind::UnknownField
        } else {
            DiagKind::BadValue
        };
        self.sink.push(e.pos.unwrap_or(fallback), kind, e.message);
    }

    fn declare_vars(&mut self, h: &Header, header_node: &Node) {
        let var_pos = |name: &str| {
            header_node
                .get("variables")
                .and_then(|v| match &v.kind {
                    Kind::Map(e) => e
                        .iter()
                        .find(|(k, _)| k.as_str() == Some(name))
                        .map(|(k, _)| k.pos),
                    _ => None,
                })
                .unwrap_or(header_node.pos)
        };
        for (name, decl) in &h.variables {
            let pos = var_pos(name);
            let valid = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
            if !valid {
                self.sink.push(
                    pos,
                    DiagKind::BadValue,
                    format!("invalid variable name `{name}`"),
                );
            }
            if let Some(b) = self.vars.get(name).filter(|b| b.builtin && b.ty != decl.ty) {
                let msg = format!(
                    "built-in variable `{name}` is {}, declared {}",
                    b.ty, decl.ty
                );
                self.sink.push(pos, DiagKind::TypeMismatch, msg);
                continue;
            }
            let default = match &decl.default {
                None => Value::Null,
                Some(d) => match Value::from_json(&d.value, decl.ty) {
                    Some(v) => v,
                    None => {
                        let msg = format!("default for `{name}` is not a {}", decl.ty);
                        self.sink.push(d.pos, DiagKind::TypeMismatch, msg);
                        Value::Null
                    }
                },
            };
            self.vars.insert(
                name.clone(),
                VarDef {
                    ty: decl.ty,
                    default,
                    builtin: false,
                },
            );
        }
    }

    fn compile_header(&mut self, h: Header) -> Head {
        if h.version.value != 1 {
            let msg = format!(
                "unsupported version {} (this build reads version 1)",
                h.version.value
            );
            self.sink
                .push(h.version.pos, DiagKind::UnsupportedVersion, msg);
        }
        if h.id.value.trim().is_empty() {
            self.sink
                .push(h.id.pos, DiagKind::BadValue, "script id is empty");
        }
        let tz = h
            .timezone
            .as_ref()
            .and_then(|t| self.tz(t))
            .unwrap_or(Tz::UTC);
        let service_hours = h.service_hours.as_ref().and_then(|sh| {
            let tz = self.tz(&sh.timezone)?;
            let days = [
                &sh.monday,
                &sh.tuesday,
                &sh.wednesday,
                &sh.thursday,
                &sh.friday,
                &sh.saturday,
                &sh.sunday,
            ];
            Some(ServiceHours {
                tz,
                days: days.map(|d| d.iter().filter_map(|w| self.window(w)).collect()),
            })
        });
        let not_answered = h.not_answered.as_ref().map(|n| Followup {
            set: self.assignments(&n.set),
            schedule: n.schedule.iter().filter_map(|s| self.schedule(s)).collect(),
        });
        let ivr = h.ivr.iter().filter_map(|r| self.ivr_rule(r)).collect();
        Head {
            id: h.id.value.clone(),
            description: h.description.clone(),
            language: h.language.clone(),
            voice: h.voice.clone(),
            max_duration: h.max_duration.as_ref().and_then(|d| self.duration(d)),
            answer_timeout: h.answer_timeout.as_ref().and_then(|d| self.duration(d)),
            person_pause: h.person_pause.as_ref().and_then(|d| self.person_pause(d)),
            endpointing: h.endpointing.unwrap_or_default(),
            tz,
            select: h
                .select
                .iter()
                .map(|r| SelectRule {
                    priority: r.priority,
                    business_type: r.business_type.clone(),
                    interest_level: r.interest_level.clone(),
                    region: r.region.clone(),
                    direction: r.direction.clone(),
                })
                .collect(),
            service_hours,
            voicemail: self.opt_template(h.voicemail.as_ref()),
            consent_notice: self.opt_template(h.consent_notice.as_ref()),
            system_prompt: self.opt_template(h.system_prompt.as_ref()),
            key_points: h
                .key_points
                .iter()
                .filter_map(|k| self.template(k))
                .collect(),
            not_answered,
            ivr,
        }
    }

    fn ivr_rule(&mut self, r: &schema::IvrRuleDoc) -> Option<IvrRule> {
        let (pos, action) = match (&r.dtmf, &r.say) {
            (Some(d), None) => {
                let valid = !d.value.is_empty()
                    && d.value
                        .chars()
                        .all(|c| c.is_ascii_digit() || "*#ABCD,".contains(c));
                if !valid {
                    let message = format!("ivr dtmf `{}`: use 0-9, *, #, A-D and `,`", d.value);
                    self.sink.push(d.pos, DiagKind::BadValue, message);
                    return None;
                }
                (d.pos, IvrAction::Dtmf(d.value.clone()))
            }
            (None, Some(s)) => (s.pos, IvrAction::Say(s.value.clone())),
            (Some(d), Some(_)) => {
                let message = "an ivr rule either presses `dtmf` or says `say`, not both";
                self.sink
                    .push(d.pos, DiagKind::BadValue, message.to_string());
                return None;
            }
            (None, None) => {
                let pos = r.phrases.first().map_or(Pos::default(), |p| p.pos);
                let message = "an ivr rule needs `dtmf` to press or `say` to say";
                self.sink.push(pos, DiagKind::BadValue, message.to_string());
                return None;
            }
        };
        if r.phrases.is_empty() {
            let message = "an ivr rule needs `phrases` the menu says";
            self.sink.push(pos, DiagKind::BadValue, message.to_string());
            return None;
        }
        let phrases = r.phrases.iter().map(|p| normalize(&p.value)).collect();
        Some(IvrRule { phrases, action })
    }

    fn tz(&mut self, s: &S) -> Option<Tz> {
        match s.value.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                self.sink.push(
                    s.pos,
                    DiagKind::BadTimeZone,
                    format!("unknown time zone `{}`", s.value),
                );
                None
            }
        }
    }

    fn window(&mut self, w: &S) -> Option<(NaiveTime, NaiveTime)> {
        let parsed = w.value.split_once('-').and_then(|(a, b)| {
            let a = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
            let b = NaiveTime::parse_from_str(b.trim(), "%H:%M").ok()?;
            (a < b).then_some((a, b))
        });
        if parsed.is_none() {
            let msg = format!(
                "bad service window `{}` (want HH:MM-HH:MM, start before end)",
                w.value
            );
            self.sink.push(w.pos, DiagKind::BadValue, msg);
        }
        parsed
    }

    pub fn duration(&mut self, s: &S) -> Option<Duration> {
        let d = parse_duration(&s.value);
        if d.is_none() {
            let msg = format!("bad duration `{}` (write e.g. 30s, 5m, 1h30m)", s.value);
            self.sink.push(s.pos, DiagKind::BadDuration, msg);
        }
        d
    }

    /// `person_pause`: a duration within [`PERSON_PAUSE`].
    fn person_pause(&mut self, s: &S) -> Option<Duration> {
        let d = self.duration(s)?;
        if PERSON_PAUSE.contains(&d) {
            return Some(d);
        }
        let msg = format!(
            "person_pause `{}` is out of range: write 300ms to 2s (a person waits about a \
             second for an answer; the default is 700ms)",
            s.value
        );
        self.sink.push(s.pos, DiagKind::BadValue, msg);
        None
    }

    pub fn duration_or(&mut self, s: Option<&S>, default: Duration) -> Duration {
        s.and_then(|s| self.duration(s)).unwrap_or(default)
    }

    pub fn schedule(&mut self, s: &ScheduleDoc) -> Option<Schedule> {
        let after = match &s.after {
            None => Duration::ZERO,
            Some(a) => self.duration(a)?,
        };
        if let Some(v) = &s.at {
            match self.vars.get(&v.value).map(|d| d.ty) {
                Some(VarType::Datetime) => {}
                Some(t) => {
                    let msg = format!("`at` needs a datetime variable, `{}` is {t}", v.value);
                    self.sink.push(v.pos, DiagKind::TypeMismatch, msg);
                }
                None if self.vars_known => {
                    let msg = format!("`at` uses undeclared variable `{}`", v.value);
                    self.sink.push(v.pos, DiagKind::UndeclaredVariable, msg);
                }
                None => {}
            }
        }
        Some(Schedule {
            kind: s.kind,
            after,
            at_var: s.at.as_ref().map(|v| v.value.clone()),
            reason: s.reason.clone(),
        })
    }

    /// Parses a template and checks its variables are declared.
    pub fn template(&mut self, s: &S) -> Option<Template> {
        match Template::parse(&s.value) {
            Ok(t) => {
                self.check_template_vars(&t, s.pos);
                Some(t)
            }
            Err(TemplateError::Unclosed) => {
                self.sink
                    .push(s.pos, DiagKind::BadTemplate, "unclosed `{{` in template");
                None
            }
            Err(TemplateError::BadName(n)) => {
                self.sink.push(
                    s.pos,
                    DiagKind::BadTemplate,
                    format!("bad variable name `{n}` in template"),
                );
                None
            }
        }
    }

    pub fn check_template_vars(&mut self, t: &Template, pos: Pos) {
        if !self.vars_known {
            return;
        }
        let missing: Vec<String> = t
            .vars()
            .filter(|v| !self.vars.contains_key(*v))
            .map(str::to_string)
            .collect();
        for v in missing {
            let msg =
                format!("template uses undeclared variable `{v}` (declare it under `variables`)");
            self.sink.push(pos, DiagKind::UndeclaredVariable, msg);
        }
    }

    pub fn opt_template(&mut self, s: Option<&S>) -> Option<Template> {
        s.and_then(|s| self.template(s))
    }

    /// Parses and type-checks an expression; `want` is the required result type.
    pub fn expr(&mut self, s: &S, want: Option<VarType>) -> Option<Expr> {
        let e = match expr::parse(&s.value) {
            Ok(e) => e,
            Err(ExprError::Syntax(m)) | Err(ExprError::Type(m)) | Err(ExprError::Undeclared(m)) => {
                self.sink.push(
                    s.pos,
                    DiagKind::BadExpression,
                    format!("bad expression `{}`: {m}", s.value),
                );
                return None;
            }
        };
        if !self.vars_known {
            return Some(e);
        }
        let types = self.vars.iter().map(|(k, v)| (k.clone(), v.ty)).collect();
        match expr::type_of(&e, &types) {
            Ok(t) => {
                let ok = match (want, t) {
                    (None, _) | (_, Ty::Null) => true,
                    (Some(VarType::Float), Ty::Var(VarType::Int)) => true,
                    (Some(w), Ty::Var(t)) => w == t,
                };
                if !ok {
                    let w = want.map(|w| w.to_string()).unwrap_or_default();
                    let msg = format!("`{}` is {t}, expected {w}", s.value);
                    self.sink.push(s.pos, DiagKind::TypeMismatch, msg);
                }
                Some(e)
            }
            Err(ExprError::Undeclared(v)) => {
                let msg = format!("expression uses undeclared variable `{v}`");
                self.sink.push(s.pos, DiagKind::UndeclaredVariable, msg);
                None
            }
            Err(ExprError::Type(m)) => {
                self.sink.push(
                    s.pos,
                    DiagKind::TypeMismatch,
                    format!("in `{}`: {m}", s.value),
                );
                None
            }
            Err(ExprError::Syntax(m)) => {
                self.sink.push(s.pos, DiagKind::BadExpression, m);
                None
            }
        }
    }

    /// `set:` maps: variable → expression of the variable's type.
    pub fn assignments(&mut self, set: &BTreeMap<String, S>) -> Vec<(String, Expr)> {
        let mut out = Vec::new();
        for (var, e) in set {
            let ty = self.vars.get(var).map(|v| v.ty);
            if ty.is_none() && self.vars_known {
                self.sink.push(
                    e.pos,
                    DiagKind::UndeclaredVariable,
                    format!("`set` assigns undeclared variable `{var}`"),
                );
                continue;
            }
            if let Some(ex) = self.expr(e, ty) {
                out.push((var.clone(), ex));
            }
        }
        out
    }

    /// Resolves a node id; unknown ids are reported and resolve to 0 (the script is refused).
    pub fn target(&mut self, s: &S) -> usize {
        match self.index.get(&s.value) {
            Some(i) => *i,
            None => {
                self.sink.push(
                    s.pos,
                    DiagKind::UnknownTarget,
                    format!("unknown node `{}`", s.value),
                );
                0
            }
        }
    }

    pub fn regex(&mut self, s: &S) -> Option<regex::Regex> {
        match regex::RegexBuilder::new(&s.value)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
        {
            Ok(r) => Some(r),
            Err(e) => {
                let first = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("invalid")
                    .trim()
                    .to_string();
                self.sink.push(
                    s.pos,
                    DiagKind::BadRegex,
                    format!("bad regex `{}`: {first}", s.value),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests;
