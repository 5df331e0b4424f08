//! The programs in Lua: rendered to source, run by the real Lua 5.4 (vendored
//! by `mlua`), the trace built by the Lua code itself in the same words as
//! `world.rs`.

use std::fmt::Write;

use mlua::{Lua, Table};

use crate::program::{Expr, GuardAction, LoopBody, Owner, Program, Step, Thrown, slot_name};

/// The helpers every program starts with.
///
/// - `show` prints a value, `showerr` an error value. `wrap` prefixes a
///   string error with the position of its caller (`prog:12: e5`) each
///   time it re-raises it; Rust re-raises the payload unchanged, and the
///   position means nothing to it, so `showerr` strips those prefixes.
/// - `resume` records a resume's result: a yield and a return both come as
///   `true, v`; the status afterwards tells them apart.
/// - A generator returns `DONE`, so that the loop knows its end: Rust's
///   iterator ends on the return (and drops its value) rather than handing
///   it out like Lua's `wrap`.
const PRELUDE: &str = r#"local T = {}
local function rec(s) T[#T + 1] = s end
local co, names, S, DONE = {}, {}, {}, {}
local function show(v) if v == nil then return "nil" end return tostring(v) end
local function showerr(e)
  local t = type(e)
  if t == "string" then
    local n
    repeat e, n = string.gsub(e, "^prog:%d+: ", "") until n == 0
    return '"' .. e .. '"'
  elseif t == "table" then return "table " .. e.id
  else return show(e) end
end
local function whoami()
  local c, main = coroutine.running()
  if main then return "main" end
  return names[c] or "?"
end
local function yieldable() return "yieldable=" .. tostring(coroutine.isyieldable()) end
local function resume(n, a)
  local ok, v = coroutine.resume(co[n], a)
  local head = "resume c" .. n .. " " .. show(a) .. " -> "
  if not ok then rec(head .. "error " .. showerr(v))
  elseif coroutine.status(co[n]) == "dead" then rec(head .. "return " .. show(v))
  else rec(head .. "yield " .. show(v)) end
  return ok, v
end
local function close(n)
  local ok, e = coroutine.close(co[n])
  if ok then rec("close c" .. n .. " -> true") else rec("close c" .. n .. " -> false " .. showerr(e)) end
end
local function guard(name, watch, action, n, a)
  return setmetatable({}, {__close = function()
    local event = "close " .. name .. " in " .. whoami() .. " " .. yieldable()
    if watch then event = event .. ", status c" .. watch .. " = " .. coroutine.status(co[watch]) end
    rec(event)
    if action == "resume" then resume(n, a) elseif action == "close" then close(n) end
  end})
end
"#;

/// The program as one Lua chunk.
pub fn render(program: &Program) -> String {
    let mut out = String::from(PRELUDE);
    for (index, script) in program.scripts.iter().enumerate().skip(1) {
        writeln!(out, "S[{index}] = function(r)").unwrap();
        if let Owner::Wrap(_) = script.owner {
            writeln!(out, "  names[coroutine.running()] = {:?}", script.name()).unwrap();
        }
        render_steps(&mut out, program, index);
        writeln!(out, "end").unwrap();
    }
    writeln!(out, "local function main(r)").unwrap();
    render_steps(&mut out, program, 0);
    writeln!(out, "end\nmain(nil)\nrec(\"end\")\nreturn T").unwrap();
    out
}

fn render_steps(out: &mut String, program: &Program, index: usize) {
    let script = &program.scripts[index];
    let me = script.name();
    let generator = matches!(script.owner, Owner::Wrap(_));
    for step in &script.steps {
        let line = match step {
            Step::Yield { value, .. } => format!("r = coroutine.yield({})", expr(value)),
            Step::Return(_) if generator => "do return DONE end".to_owned(),
            Step::Return(value) => format!("do return {} end", expr(value)),
            Step::Error(thrown) => format!("error({}, 0)", thrown_value(thrown)),
            Step::Create { slot, script } => {
                format!(
                    "co[{slot}] = coroutine.create(S[{script}]); names[co[{slot}]] = \"c{slot}\""
                )
            }
            Step::Resume { slot, arg } => {
                format!(
                    "do local ok, v = resume({slot}, {}); if ok then r = v end end",
                    expr(arg)
                )
            }
            Step::Status(slot) => format!(
                "rec(\"status {} = \" .. coroutine.status(co[{slot}]))",
                slot_name(*slot)
            ),
            Step::Close(slot) => format!("close({slot})"),
            Step::Wrap {
                script,
                body,
                protected,
            } => wrap(*script, &program.scripts[*script].name(), *body, *protected),
            Step::Running => format!("rec(\"running in {me} = \" .. whoami())"),
            Step::Yieldable => format!("rec(\"{me} \" .. yieldable())"),
            Step::Echo => format!("rec(\"echo {me} = \" .. show(r))"),
            Step::Guard {
                number,
                watch,
                action,
            } => {
                let watch = watch.map_or("nil".to_owned(), |slot| slot.to_string());
                let action = match action {
                    GuardAction::Nothing => String::new(),
                    GuardAction::Resume { slot, arg } => format!(", \"resume\", {slot}, {arg}"),
                    GuardAction::Close(slot) => format!(", \"close\", {slot}"),
                };
                format!("local g{number} <close> = guard(\"g{number}\", {watch}{action})")
            }
        };
        writeln!(out, "  {line}").unwrap();
    }
    if generator {
        writeln!(out, "  do return DONE end").unwrap();
    }
}

fn wrap(script: usize, name: &str, body: LoopBody, protected: bool) -> String {
    let each = match body {
        LoopBody::Record => format!("rec(\"wrap {name} -> \" .. show(v))"),
        LoopBody::YieldEach { .. } => "r = coroutine.yield(v)".to_owned(),
    };
    let iterate = format!(
        "local function iterate() \
         local gen = coroutine.wrap(S[{script}]) \
         while true do local v = gen(); if v == DONE then break end; {each} end end"
    );
    if protected {
        format!(
            "do {iterate} local ok, e = pcall(iterate) \
             if ok then rec(\"wrap {name} end\") \
             else rec(\"wrap {name} -> error \" .. showerr(e)) end end"
        )
    } else {
        format!("do {iterate} iterate() rec(\"wrap {name} end\") end")
    }
}

fn expr(value: &Expr) -> String {
    match value {
        Expr::Nil => "nil".to_owned(),
        Expr::Const(n) => n.to_string(),
        Expr::Reg => "r".to_owned(),
        Expr::RegPlus(k) => format!("(r or 0) + {k}"),
    }
}

fn thrown_value(thrown: &Thrown) -> String {
    match thrown {
        Thrown::Int(n) => n.to_string(),
        Thrown::Str(s) => format!("{s:?}"),
        Thrown::Table(n) => format!("{{id = {n}}}"),
    }
}

/// Runs a chunk rendered by [`render`] in a fresh Lua state; its trace.
pub fn run(source: &str) -> Vec<String> {
    let lua = Lua::new();
    match lua.load(source).set_name("=prog").eval::<Table>() {
        Ok(trace) => trace
            .sequence_values::<String>()
            .map(|event| event.unwrap_or_else(|err| format!("lua: bad trace entry: {err}")))
            .collect(),
        Err(err) => vec![format!("lua failed: {err}")],
    }
}
