// A stackless coroutine that borrows cannot outlive the text it borrows.

use coro::stackless::{Coroutine, Yielder};

fn main() {
    let tokens;
    {
        let text = String::from("let x = 42 ;");
        let line = text.as_str();
        tokens = Coroutine::new(|y: Yielder<(), &str>, ()| async move {
            for token in line.split_whitespace() {
                y.suspend(token).await;
            }
        });
    }
    for token in tokens {
        println!("{token}");
    }
}
