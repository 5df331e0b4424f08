// A borrowing stackful coroutine cannot outlive the text it borrows.

fn main() {
    let tokens;
    {
        let text = String::from("let x = 42 ;");
        tokens = coro::Coroutine::borrowing(|y, ()| {
            for token in text.split_whitespace() {
                y.suspend(token);
            }
        });
    }
    for token in tokens {
        println!("{token}");
    }
}
