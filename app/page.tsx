export default function Page() {
  return <main>SkyLight webhook operations</main>;
}
