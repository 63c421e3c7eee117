-- wrk script: GET the paths of the file named by $PATHS_FILE (one per line), in turn, each
-- thread starting at a different line. Used by bench/public_query.sh.
local paths = {}
local i = 0
function init(args)
  local f = assert(io.open(os.getenv("PATHS_FILE"), "r"))
  for line in f:lines() do
    if #line > 0 then paths[#paths + 1] = line end
  end
  f:close()
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
  i = math.random(#paths)
end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
