//! Branch and guard expressions over script variables: parse, type-check, evaluate.
//!
//! Grammar (lowest precedence first):
//! `a || b` (`or`), `a && b` (`and`), `!a` (`not`), comparisons `== != < <= > >=`,
//! `+ -`, atoms: numbers, `'strings'`/`"strings"`, `true`, `false`, `null`, variable names,
//! `( … )`, and the functions `is_set(var)`, `contains(text, 'needle')`, `len(text)`.
//! A variable that is not set evaluates to `null`; ordering comparisons against `null` are false.

use std::collections::BTreeMap;

use crate::value::{Value, VarType};

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(Value),
    Var(String),
    Not(Box<Expr>),
    Bin(Box<Expr>, Op, Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    IsSet,
    Contains,
    Len,
}

/// The static type of an expression; `Null` is the literal `null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Var(VarType),
    Null,
}

impl std::fmt::Display for Ty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ty::Var(t) => write!(f, "{t}"),
            Ty::Null => f.write_str("null"),
        }
    }
}

/// Why an expression was refused. `Syntax` → bad-expression, the others by name.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprError {
    Syntax(String),
    Undeclared(String),
    Type(String),
}

// ---------------------------------------------------------------- lexing

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64, bool),
    Str(String),
    Ident(String),
    Sym(&'static str),
}

fn lex(src: &str) -> Result<Vec<Tok>, ExprError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let n: f64 = text
                .parse()
                .map_err(|_| ExprError::Syntax(format!("bad number `{text}`")))?;
            out.push(Tok::Num(n, !text.contains('.')));
        } else if c == '\'' || c == '"' {
            let end = chars[i + 1..]
                .iter()
                .position(|&x| x == c)
                .map(|p| p + i + 1);
            let Some(end) = end else {
                return Err(ExprError::Syntax("unterminated string".into()));
            };
            out.push(Tok::Str(chars[i + 1..end].iter().collect()));
            i = end + 1;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let sym = ["==", "!=", "<=", ">=", "&&", "||"]
                .into_iter()
                .find(|s| *s == two);
            if let Some(s) = sym {
                out.push(Tok::Sym(s));
                i += 2;
            } else {
                let s = ["<", ">", "!", "(", ")", ",", "+", "-"]
                    .into_iter()
                    .find(|s| s.starts_with(c));
                match s {
                    Some(s) => out.push(Tok::Sym(s)),
                    None => return Err(ExprError::Syntax(format!("unexpected character `{c}`"))),
                }
                i += 1;
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- parsing

struct P {
    toks: Vec<Tok>,
    i: usize,
    depth: usize,
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }
    fn eat_sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if *x == s) {
            self.i += 1;
            return true;
        }
        false
    }
    fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(x)) if x == w) {
            self.i += 1;
            return true;
        }
        false
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        let mut l = self.and()?;
        while self.eat_sym("||") || self.eat_word("or") {
            l = Expr::Bin(Box::new(l), Op::Or, Box::new(self.and()?));
        }
        Ok(l)
    }
    fn and(&mut self) -> Result<Expr, ExprError> {
        let mut l = self.not()?;
        while self.eat_sym("&&") || self.eat_word("and") {
            l = Expr::Bin(Box::new(l), Op::And, Box::new(self.not()?));
        }
        Ok(l)
    }
    fn not(&mut self) -> Result<Expr, ExprError> {
        if self.eat_sym("!") || self.eat_word("not") {
            self.depth += 1;
            if self.depth > 64 {
                return Err(ExprError::Syntax("expression nested too deeply".into()));
            }
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Result<Expr, ExprError> {
        let l = self.sum()?;
        let ops = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ];
        for (s, op) in ops {
            if self.eat_sym(s) {
                return Ok(Expr::Bin(Box::new(l), op, Box::new(self.sum()?)));
            }
        }
        Ok(l)
    }
    fn sum(&mut self) -> Result<Expr, ExprError> {
        let mut l = self.atom()?;
        loop {
            if self.eat_sym("+") {
                l = Expr::Bin(Box::new(l), Op::Add, Box::new(self.atom()?));
            } else if self.eat_sym("-") {
                l = Expr::Bin(Box::new(l), Op::Sub, Box::new(self.atom()?));
            } else {
                return Ok(l);
            }
        }
    }
    fn atom(&mut self) -> Result<Expr, ExprError> {
        self.depth += 1;
        if self.depth > 64 {
            return Err(ExprError::Syntax("expression nested too deeply".into()));
        }
        let tok = self.peek().cloned();
        self.i += 1;
        let e = match tok {
            None => return Err(ExprError::Syntax("unexpected end of expression".into())),
            Some(Tok::Num(n, true)) if n.abs() < 9e15 => Expr::Lit(Value::Int(n as i64)),
            Some(Tok::Num(n, _)) => Expr::Lit(Value::Float(n)),
            Some(Tok::Str(s)) => Expr::Lit(Value::Str(s)),
            Some(Tok::Sym("-")) => match self.atom()? {
                Expr::Lit(Value::Int(i)) => Expr::Lit(Value::Int(-i)),
                Expr::Lit(Value::Float(f)) => Expr::Lit(Value::Float(-f)),
                e => Expr::Bin(Box::new(Expr::Lit(Value::Int(0))), Op::Sub, Box::new(e)),
            },
            Some(Tok::Sym("(")) => {
                let e = self.or()?;
                if !self.eat_sym(")") {
                    return Err(ExprError::Syntax("missing `)`".into()));
                }
                e
            }
            Some(Tok::Ident(w)) => match w.as_str() {
                "true" => Expr::Lit(Value::Bool(true)),
                "false" => Expr::Lit(Value::Bool(false)),
                "null" => Expr::Lit(Value::Null),
                _ if self.eat_sym("(") => {
                    let f = match w.as_str() {
                        "is_set" => Func::IsSet,
                        "contains" => Func::Contains,
                        "len" => Func::Len,
                        _ => return Err(ExprError::Syntax(format!("unknown function `{w}`"))),
                    };
                    let mut args = Vec::new();
                    if !self.eat_sym(")") {
                        loop {
                            args.push(self.or()?);
                            if self.eat_sym(")") {
                                break;
                            }
                            if !self.eat_sym(",") {
                                return Err(ExprError::Syntax("expected `,` or `)`".into()));
                            }
                        }
                    }
                    let want = if f == Func::Contains { 2 } else { 1 };
                    if args.len() != want {
                        return Err(ExprError::Syntax(format!("`{w}` takes {want} argument(s)")));
                    }
                    Expr::Call(f, args)
                }
                _ => Expr::Var(w),
            },
            Some(Tok::Sym(s)) => return Err(ExprError::Syntax(format!("unexpected `{s}`"))),
        };
        self.depth -= 1;
        Ok(e)
    }
}

/// Parses an expression.
///
/// # Errors
/// [`ExprError::Syntax`] with a message.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let mut p = P {
        toks: lex(src)?,
        i: 0,
        depth: 0,
    };
    let e = p.or()?;
    if p.i < p.toks.len() {
        return Err(ExprError::Syntax(format!(
            "unexpected `{}`",
            tok_text(&p.toks[p.i])
        )));
    }
    Ok(e)
}

fn tok_text(t: &Tok) -> String {
    match t {
        Tok::Num(n, _) => n.to_string(),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Ident(s) => s.clone(),
        Tok::Sym(s) => (*s).to_string(),
    }
}

// ---------------------------------------------------------------- typing

/// Infers the type of `e` given the declared variables.
///
/// # Errors
/// Undeclared variables and operand type mismatches.
pub fn type_of(e: &Expr, vars: &BTreeMap<String, VarType>) -> Result<Ty, ExprError> {
    use VarType as V;
    Ok(match e {
        Expr::Lit(v) => v.var_type().map_or(Ty::Null, Ty::Var),
        Expr::Var(name) => Ty::Var(
            *vars
                .get(name)
                .ok_or_else(|| ExprError::Undeclared(name.clone()))?,
        ),
        Expr::Not(inner) => {
            expect_bool(type_of(inner, vars)?, "`!`")?;
            Ty::Var(V::Bool)
        }
        Expr::Call(f, args) => {
            let tys: Vec<Ty> = args
                .iter()
                .map(|a| type_of(a, vars))
                .collect::<Result<_, _>>()?;
            match f {
                Func::IsSet => {
                    if !matches!(args[0], Expr::Var(_)) {
                        return Err(ExprError::Type("is_set() takes a variable name".into()));
                    }
                    Ty::Var(V::Bool)
                }
                Func::Contains => {
                    for t in &tys {
                        if *t != Ty::Var(V::String) {
                            return Err(ExprError::Type(format!(
                                "contains() takes strings, not {t}"
                            )));
                        }
                    }
                    Ty::Var(V::Bool)
                }
                Func::Len => {
                    if tys[0] != Ty::Var(V::String) {
                        return Err(ExprError::Type(format!(
                            "len() takes a string, not {}",
                            tys[0]
                        )));
                    }
                    Ty::Var(V::Int)
                }
            }
        }
        Expr::Bin(l, op, r) => {
            let (lt, rt) = (type_of(l, vars)?, type_of(r, vars)?);
            let numeric = |t: Ty| matches!(t, Ty::Var(V::Int) | Ty::Var(V::Float));
            match op {
                Op::Or | Op::And => {
                    expect_bool(lt, "`&&`/`||`")?;
                    expect_bool(rt, "`&&`/`||`")?;
                    Ty::Var(V::Bool)
                }
                Op::Eq | Op::Ne => {
                    let ok = lt == rt
                        || lt == Ty::Null
                        || rt == Ty::Null
                        || (numeric(lt) && numeric(rt));
                    if !ok {
                        return Err(ExprError::Type(format!("cannot compare {lt} with {rt}")));
                    }
                    Ty::Var(V::Bool)
                }
                Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                    let ok = (numeric(lt) && numeric(rt))
                        || (lt == rt && matches!(lt, Ty::Var(V::String) | Ty::Var(V::Datetime)));
                    if !ok {
                        return Err(ExprError::Type(format!("cannot order {lt} against {rt}")));
                    }
                    Ty::Var(V::Bool)
                }
                Op::Add | Op::Sub => {
                    if !(numeric(lt) && numeric(rt)) {
                        return Err(ExprError::Type(format!(
                            "cannot do arithmetic on {lt} and {rt}"
                        )));
                    }
                    if lt == Ty::Var(V::Float) || rt == Ty::Var(V::Float) {
                        Ty::Var(V::Float)
                    } else {
                        Ty::Var(V::Int)
                    }
                }
            }
        }
    })
}

fn expect_bool(t: Ty, what: &str) -> Result<(), ExprError> {
    if t == Ty::Var(VarType::Bool) {
        Ok(())
    } else {
        Err(ExprError::Type(format!("{what} needs a bool, found {t}")))
    }
}

// ---------------------------------------------------------------- evaluation

/// Evaluates a type-checked expression. Never panics; unset variables are `null`.
pub fn eval(e: &Expr, vars: &BTreeMap<String, Value>) -> Value {
    match e {
        Expr::Lit(v) => v.clone(),
        Expr::Var(n) => vars.get(n).cloned().unwrap_or(Value::Null),
        Expr::Not(inner) => Value::Bool(!truthy(&eval(inner, vars))),
        Expr::Call(f, args) => match f {
            Func::IsSet => Value::Bool(!eval(&args[0], vars).is_null()),
            Func::Contains => match (eval(&args[0], vars), eval(&args[1], vars)) {
                (Value::Str(a), Value::Str(b)) => {
                    Value::Bool(a.to_lowercase().contains(&b.to_lowercase()))
                }
                _ => Value::Bool(false),
            },
            Func::Len => match eval(&args[0], vars) {
                Value::Str(s) => Value::Int(s.chars().count() as i64),
                _ => Value::Int(0),
            },
        },
        Expr::Bin(l, op, r) => {
            if *op == Op::And {
                return Value::Bool(truthy(&eval(l, vars)) && truthy(&eval(r, vars)));
            }
            if *op == Op::Or {
                return Value::Bool(truthy(&eval(l, vars)) || truthy(&eval(r, vars)));
            }
            let (a, b) = (eval(l, vars), eval(r, vars));
            match op {
                Op::Eq => Value::Bool(loose_eq(&a, &b)),
                Op::Ne => Value::Bool(!loose_eq(&a, &b)),
                Op::Add | Op::Sub => arith(&a, *op, &b),
                _ => Value::Bool(order(&a, &b).is_some_and(|o| match op {
                    Op::Lt => o.is_lt(),
                    Op::Le => o.is_le(),
                    Op::Gt => o.is_gt(),
                    _ => o.is_ge(),
                })),
            }
        }
    }
}

/// True only for `Bool(true)`.
pub fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn loose_eq(a: &Value, b: &Value) -> bool {
    match (as_f64(a), as_f64(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Datetime(x), Value::Datetime(y)) => Some(x.cmp(y)),
        _ => as_f64(a)?.partial_cmp(&as_f64(b)?),
    }
}

fn arith(a: &Value, op: Op, b: &Value) -> Value {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            let r = if op == Op::Add {
                x.checked_add(*y)
            } else {
                x.checked_sub(*y)
            };
            r.map_or(Value::Null, Value::Int)
        }
        _ => match (as_f64(a), as_f64(b)) {
            (Some(x), Some(y)) => Value::Float(if op == Op::Add { x + y } else { x - y }),
            _ => Value::Null,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl() -> BTreeMap<String, VarType> {
        [
            ("rating", VarType::Int),
            ("solved", VarType::Bool),
            ("name", VarType::String),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    #[test]
    fn parses_types_and_evaluates() {
        let e = parse("rating <= 2 && not solved || contains(name, 'an')").unwrap();
        assert_eq!(type_of(&e, &decl()), Ok(Ty::Var(VarType::Bool)));
        let mut vars = BTreeMap::new();
        vars.insert("rating".to_string(), Value::Int(2));
        vars.insert("solved".to_string(), Value::Bool(false));
        assert_eq!(eval(&e, &vars), Value::Bool(true));
        vars.insert("rating".to_string(), Value::Int(5));
        assert_eq!(eval(&e, &vars), Value::Bool(false));
        vars.insert("name".to_string(), Value::Str("Dana".into()));
        assert_eq!(eval(&e, &vars), Value::Bool(true));
    }

    #[test]
    fn reports_syntax_undeclared_and_type_errors() {
        assert!(matches!(parse("rating <"), Err(ExprError::Syntax(_))));
        assert!(matches!(parse("(a"), Err(ExprError::Syntax(_))));
        assert!(matches!(parse("a $ b"), Err(ExprError::Syntax(_))));
        let e = parse("ratin == 3").unwrap();
        assert_eq!(
            type_of(&e, &decl()),
            Err(ExprError::Undeclared("ratin".into()))
        );
        let e = parse("name > 3").unwrap();
        assert!(matches!(type_of(&e, &decl()), Err(ExprError::Type(_))));
        let e = parse("rating && solved").unwrap();
        assert!(matches!(type_of(&e, &decl()), Err(ExprError::Type(_))));
    }

    #[test]
    fn unset_variables_are_null() {
        let e = parse("rating >= 4").unwrap();
        assert_eq!(eval(&e, &BTreeMap::new()), Value::Bool(false));
        let e = parse("rating == null").unwrap();
        assert_eq!(eval(&e, &BTreeMap::new()), Value::Bool(true));
    }
}
