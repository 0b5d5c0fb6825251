// mix32: a hash-like mixing function written for threshnet (not a standard hash).
// Four add-rotate steps on two 32-bit words, then an xor: every '+' is a 32-bit
// adder, and each rotation feeds a sum's late high bits into the next adder's
// low bits, so a bit-level netlist is a chain of four 32-bit ripple adders.
module mix32(input [31:0] a, input [31:0] b, output [31:0] x, output [31:0] y);
  wire [31:0] a1 = a  + {b[24:0],  b[31:25]};   // a  + rotl(b, 7)
  wire [31:0] b1 = b  + {a1[18:0], a1[31:19]};  // b  + rotl(a1, 13)
  wire [31:0] a2 = a1 + {b1[22:0], b1[31:23]};  // a1 + rotl(b1, 9)
  wire [31:0] b2 = b1 + {a2[14:0], a2[31:15]};  // b1 + rotl(a2, 17)
  assign x = a2 ^ {b2[26:0], b2[31:27]};        // a2 ^ rotl(b2, 5)
  assign y = b2;
endmodule
