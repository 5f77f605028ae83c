// The light build of Bottleneck (no Redis clustering) is the one @octokit/plugin-throttling loads;
// importing the same file keeps a single copy in the bundle. Its API is the full build's.
declare module 'bottleneck/light.js' {
  import Bottleneck from 'bottleneck';
  export default Bottleneck;
}
