// The Deno start-up floor: the same runtime, doing nothing.
console.log("hello");
