;; Row additions for n-gram sums (stages/formats/fasttext/sums.ts): for p in [0, n)
;;   acc[accOff[p] .. + dim) += src[srcOff[p] .. + dim)   (float32, lane by lane)
;; accOff and srcOff are arrays of byte offsets into the same (shared) memory: threads may add
;; pairs of different accumulators at the same time. Four floats per f32x4 step,
;; the last dim % 4 floats one by one. f32 addition is exact IEEE binary32 rounding, the same bits
;; as Float32Array arithmetic in JavaScript.
(module
  (import "env" "memory" (memory 1 65536 shared))
  (func (export "addPairs") (param $accOff i32) (param $srcOff i32) (param $n i32) (param $dim i32)
    (local $p i32) (local $a i32) (local $s i32) (local $e4 i32) (local $e i32)
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $p) (local.get $n)))
        (local.set $a (i32.load (i32.add (local.get $accOff) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $s (i32.load (i32.add (local.get $srcOff) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $e (i32.add (local.get $s) (i32.shl (local.get $dim) (i32.const 2))))
        (local.set $e4 (i32.add (local.get $s) (i32.shl (i32.and (local.get $dim) (i32.const -4)) (i32.const 2))))
        (block $v4done
          (loop $v4
            (br_if $v4done (i32.ge_u (local.get $s) (local.get $e4)))
            (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $s))))
            (local.set $a (i32.add (local.get $a) (i32.const 16)))
            (local.set $s (i32.add (local.get $s) (i32.const 16)))
            (br $v4)))
        (block $tdone
          (loop $t
            (br_if $tdone (i32.ge_u (local.get $s) (local.get $e)))
            (f32.store (local.get $a) (f32.add (f32.load (local.get $a)) (f32.load (local.get $s))))
            (local.set $a (i32.add (local.get $a) (i32.const 4)))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (br $t)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pairs)))))
